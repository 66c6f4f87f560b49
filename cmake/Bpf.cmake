# BPF objects and libbpf skeletons.
#
# utrace_bpf_skeleton(NAME SOURCE) compiles SOURCE with clang for the BPF
# target, links it with `bpftool gen object` and generates NAME.skel.h with
# `bpftool gen skeleton`.  It defines the INTERFACE target bpf_NAME, which
# carries the skeleton's include directory and libbpf.
#
# The programs are CO-RE C.  They use raw tracepoints and scalar arguments, so
# they load on kernels without BTF too (Debian's ppc64el 6.1 has none).
find_program(UTRACE_CLANG NAMES clang clang-14 REQUIRED)
find_program(UTRACE_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

if(UTRACE_ARCH STREQUAL "ppc64le")
  set(UTRACE_BPF_TARGET_ARCH powerpc)
  set(UTRACE_SYSROOT ${UTRACE_CACHE}/sysroot-ppc64el)
  if(NOT EXISTS ${UTRACE_SYSROOT}/usr/lib/powerpc64le-linux-gnu/libbpf.a)
    message(FATAL_ERROR "${UTRACE_SYSROOT} lacks libbpf.a: run scripts/setup.sh")
  endif()
  add_library(utrace_libbpf INTERFACE)
  target_include_directories(utrace_libbpf SYSTEM INTERFACE ${UTRACE_SYSROOT}/usr/include)
  set(_l ${UTRACE_SYSROOT}/usr/lib/powerpc64le-linux-gnu)
  target_link_libraries(utrace_libbpf INTERFACE ${_l}/libbpf.a ${_l}/libelf.a ${_l}/libz.a
                        ${_l}/libzstd.a)
else()
  set(UTRACE_BPF_TARGET_ARCH x86)
  # A target with the property UTRACE_STATIC (utracectl, a static PIE:
  # controller/CMakeLists.txt) links the static archives (libbpf-dev,
  # libelf-dev, zlib1g-dev, libzstd-dev); the rest the shared libraries.
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(LIBBPF REQUIRED IMPORTED_TARGET libbpf)
  add_library(utrace_libbpf INTERFACE)
  target_include_directories(utrace_libbpf SYSTEM INTERFACE ${LIBBPF_INCLUDE_DIRS})
  set(_static $<BOOL:$<TARGET_PROPERTY:UTRACE_STATIC>>)
  target_link_libraries(utrace_libbpf INTERFACE $<$<NOT:${_static}>:PkgConfig::LIBBPF>)
  foreach(_a bpf elf z zstd)
    find_library(UTRACE_LIB${_a}_A lib${_a}.a REQUIRED)
    target_link_libraries(utrace_libbpf INTERFACE $<${_static}:${UTRACE_LIB${_a}_A}>)
  endforeach()
endif()

execute_process(COMMAND gcc -print-multiarch OUTPUT_VARIABLE _multiarch
                OUTPUT_STRIP_TRAILING_WHITESPACE)

function(utrace_bpf_skeleton name source)
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/bpf-${name})
  set(obj ${dir}/${name}.bpf.o)
  set(linked ${dir}/${name}.o)
  set(skel ${dir}/${name}.skel.h)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
    COMMAND ${UTRACE_CLANG} -g -O2 -target bpf -mcpu=v3
            -D__TARGET_ARCH_${UTRACE_BPF_TARGET_ARCH}
            -I${CMAKE_CURRENT_SOURCE_DIR} -I/usr/include/${_multiarch}
            -Wall -Werror -c ${source} -o ${obj}
    COMMAND ${UTRACE_BPFTOOL} gen object ${linked} ${obj}
    COMMAND ${UTRACE_BPFTOOL} gen skeleton ${linked} name ${name} > ${skel}
    DEPENDS ${source} ${ARGN}
    COMMENT "BPF ${name} (${UTRACE_BPF_TARGET_ARCH})"
    VERBATIM)
  add_custom_target(bpf_${name}_gen DEPENDS ${skel})
  add_library(bpf_${name} INTERFACE)
  add_dependencies(bpf_${name} bpf_${name}_gen)
  target_include_directories(bpf_${name} INTERFACE ${dir} ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(bpf_${name} INTERFACE utrace_libbpf)
endfunction()
