/* sigaltstack.c with the program running inside a signal handler on the
 * alternate stack: the dump sees SS_ONSTACK, restore must still set it. */
// crest-test: mode=cr
#define ON_STACK 1
#include "sigaltstack.c"
