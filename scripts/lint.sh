#!/usr/bin/env bash
# Lint the C++ sources: clang-format (no changes needed) and clang-tidy
# (.clang-tidy, warnings are errors).  usage: lint.sh {format|tidy} [BUILD_DIR]
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
mapfile -t cxx < <(git ls-files -co --exclude-standard 'controller/*.cpp' 'controller/*.hpp' \
	'tests/*.cpp' 'tests/*.hpp' 'bench/*.cpp' 'bench/*.hpp')
case "${1:-}" in
format) exec clang-format --dry-run --Werror "${cxx[@]}" ;;
tidy)
	build=${2:-$top/build}
	mapfile -t srcs < <(printf '%s\n' "${cxx[@]}" | grep -E '^(controller|bench)/.*\.cpp$')
	exec clang-tidy -p "$build" --quiet "${srcs[@]}"
	;;
*)
	echo "usage: lint.sh {format|tidy} [BUILD_DIR]" >&2
	exit 2
	;;
esac
