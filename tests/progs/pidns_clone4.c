/* pidns_nested without unshare(CLONE_NEWPID): every one of the 4 nested
 * levels made by clone(CLONE_NEWPID), U a plain child.  Same checks: pids at
 * every level (NSpid), getpid()/getppid() inside, the inits, which tasks
 * share a namespace.  See tests/lib/pidns_tree.h. */
// crest-test: mode=cr
#define PIDNS_CLONE_ONLY 1
#include "pidns_tree.h"
