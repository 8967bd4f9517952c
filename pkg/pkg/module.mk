# pkg/pkg: the `pkg` tool (build, install, remove, list, info, files,
# verify, attrs); see `pkg --help` and pkg/FORMAT.md.
PROGRAMS += pkg
pkg_SRCS = $(wildcard pkg/pkg/*.c) $(LIBPKG_SRCS) $(LIBSPACE_SRCS)
pkg_LIBS = $(LIBPKG_LIBS)
TOOL_TESTS += tests/tool/pkg.sh
BENCHES += tests/bench/pkg.sh
