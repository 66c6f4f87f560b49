# utrace.ko for each guest arch, built through Kbuild by scripts/build-kmod.sh
# against the Debian headers in the cache: Debian 12's 6.1 as "arch" x86_64
# and ppc64le, and (UTRACE_KERNEL_6_12, off by default until it is in the CI run)
# bookworm-backports'
# 6.12, Debian 13's kernel, as x86_64-6.12 and ppc64le-6.12; and (UTRACE_DEBUG_KERNEL, on by
# default) for the x86_64 debug kernel of scripts/build-debug-kernel.sh, as
# "arch" x86_64-debug (gcov-profiled; the first build builds the kernel, some
# 15 to 20 min on 2 cores, then it is cached outside the build tree).  The
# x86_64-debug target is not part of ALL: the test debug.kmod_build builds it
# (tests/CMakeLists.txt), so that on a fresh machine the kernel's build
# overlaps the other guest tests instead of holding up all of them.  Outputs:
#   ${CMAKE_BINARY_DIR}/kmod/<arch>/utrace.ko
#   ${CMAKE_BINARY_DIR}/kmod/<arch>/utrace_test_warn.ko  (test only: WARN_ON at load)
#   ${CMAKE_BINARY_DIR}/kmod/<arch>/utrace_test_api.ko   (test only: engine API checks)
#   ${CMAKE_BINARY_DIR}/kmod/x86_64-debug/utrace_test_leak.ko (test only: leaks at load)
file(GLOB_RECURSE UTRACE_KMOD_SOURCES CONFIGURE_DEPENDS
  ${CMAKE_SOURCE_DIR}/kmod/*.c ${CMAKE_SOURCE_DIR}/kmod/*.h ${CMAKE_SOURCE_DIR}/kmod/probes/*.sh
  ${CMAKE_SOURCE_DIR}/tests/guest/warnmod/*.c ${CMAKE_SOURCE_DIR}/tests/guest/warnmod/Kbuild
  ${CMAKE_SOURCE_DIR}/tests/guest/apimod/*.c ${CMAKE_SOURCE_DIR}/tests/guest/apimod/Kbuild
  ${CMAKE_SOURCE_DIR}/tests/guest/leakmod/*.c ${CMAKE_SOURCE_DIR}/tests/guest/leakmod/Kbuild)
option(UTRACE_DEBUG_KERNEL "Build utrace.ko for the x86_64 debug kernel and run the debug tests" ON)
option(UTRACE_KERNEL_6_12 "Build utrace.ko for Debian's 6.12 too and run its guest tests" OFF)
# x86_64 6.12 guests: 2 of about 40 boots (2026-12-03/04) died of an "Oops:
# int3" at a text_poke_bp() site, a stale translation of qemu 7.2's
# multi-threaded TCG; they run on single-threaded TCG now (run-guest.py,
# tcg_single()).  OFF leaves them out.
option(UTRACE_KERNEL_6_12_X86_GUESTS "With UTRACE_KERNEL_6_12: the x86_64 6.12 guest tests too" ON)
set(UTRACE_KMOD_ARCHES x86_64 ppc64le)
if(UTRACE_KERNEL_6_12)
  list(APPEND UTRACE_KMOD_ARCHES x86_64-6.12 ppc64le-6.12)
endif()
if(UTRACE_DEBUG_KERNEL)
  list(APPEND UTRACE_KMOD_ARCHES x86_64-debug)
endif()
set(UTRACE_KMOD_DEBUG_DEPENDS ${CMAKE_SOURCE_DIR}/scripts/build-debug-kernel.sh
    ${CMAKE_SOURCE_DIR}/scripts/debug-kernel.config)
foreach(arch IN LISTS UTRACE_KMOD_ARCHES)
  set(out ${CMAKE_BINARY_DIR}/kmod/${arch})
  set(extra_depends)
  set(extra_outputs)
  if(arch STREQUAL "x86_64-debug")
    set(extra_depends ${UTRACE_KMOD_DEBUG_DEPENDS})
    set(extra_outputs ${out}/utrace_test_leak.ko)
    set(UTRACE_LEAK_KO_${arch} ${out}/utrace_test_leak.ko)
  endif()
  add_custom_command(
    OUTPUT ${out}/utrace.ko ${out}/utrace_test_warn.ko ${out}/utrace_test_api.ko ${extra_outputs}
    COMMAND ${CMAKE_COMMAND} -E env UTRACE_CACHE=${UTRACE_CACHE}
            ${CMAKE_SOURCE_DIR}/scripts/build-kmod.sh ${arch} ${out}
    DEPENDS ${UTRACE_KMOD_SOURCES} ${CMAKE_SOURCE_DIR}/Kbuild
            ${CMAKE_SOURCE_DIR}/scripts/build-kmod.sh ${extra_depends}
    COMMENT "Building utrace.ko for ${arch}"
    USES_TERMINAL)
  set(all ALL)
  if(arch STREQUAL "x86_64-debug")
    set(all)
  endif()
  add_custom_target(kmod-${arch} ${all}
    DEPENDS ${out}/utrace.ko ${out}/utrace_test_warn.ko ${out}/utrace_test_api.ko ${extra_outputs})
  set(UTRACE_KO_${arch} ${out}/utrace.ko)
  set(UTRACE_WARN_KO_${arch} ${out}/utrace_test_warn.ko)
  set(UTRACE_API_KO_${arch} ${out}/utrace_test_api.ko)
endforeach()
