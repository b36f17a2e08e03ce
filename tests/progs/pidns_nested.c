/* Nested pid namespaces 4 deep with processes at every level 0..4, each
 * checking its own getpid(), getppid() and NSpid; the root checks NSpid of
 * all through the host's /proc and which tasks share namespaces; levels made
 * by clone(CLONE_NEWPID) and by unshare(CLONE_NEWPID) + fork (the inits of
 * levels 1 and 3 unshared after forking a child in their own namespace);
 * plus a task that called unshare(CLONE_NEWPID) and has not forked.  See
 * tests/lib/pidns_tree.h. */
// crest-test: mode=cr
#define PIDNS_CLONE_ONLY 0
#include "pidns_tree.h"
