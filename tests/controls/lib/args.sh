# Sourced by the negative controls in tests/controls (not a control itself):
# `crest CMD [options]` as tests/run calls it.  Sets cmd, pid (-t) and
# dir (-D); other options are ignored.
cmd=$1
shift
pid= dir=
while [ $# -gt 0 ]; do
	case "$1" in
	-t) pid=$2; shift 2 ;;
	-D) dir=$2; shift 2 ;;
	*) shift ;;
	esac
done
