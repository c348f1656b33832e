# Shared compile settings for every vmodem target: warnings, sanitizers.

add_library(vmodem_options INTERFACE)
target_compile_options(vmodem_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                                                -Wnon-virtual-dtor -Wimplicit-fallthrough)
if(VMODEM_WERROR)
  target_compile_options(vmodem_options INTERFACE -Werror)
endif()
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  # The locks of shared state are annotated (nand/thread_safety.hpp): an
  # access without its lock is a warning under clang.
  target_compile_options(vmodem_options INTERFACE -Wthread-safety)
endif()

if(VMODEM_BUILD_FUZZ)
  # Safety nets that turn a bug into an error reply (the AT dispatcher's
  # catch of handler exceptions) are compiled out, so the fuzzers see it.
  target_compile_definitions(vmodem_options INTERFACE VMODEM_FUZZING=1)
endif()

if(VMODEM_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC warns (-Wtsan) about the atomic_thread_fence inside Boost.Asio's
  # headers; TSan sees the fences anyway, so the warning is noise here.
  target_compile_options(vmodem_options INTERFACE -Wno-tsan)
endif()

# LLVM's lld links the sanitizer builds' test programs (hundreds of MB of
# debug info each) in about half the time GNU ld takes: CI links dozens.
option(VMODEM_LLD "Link with lld when the compiler accepts -fuse-ld=lld" ON)
if(VMODEM_LLD)
  include(CheckLinkerFlag)
  check_linker_flag(CXX -fuse-ld=lld VMODEM_HAVE_LLD)
  if(VMODEM_HAVE_LLD)
    add_link_options(-fuse-ld=lld)
  endif()
endif()

if(VMODEM_SANITIZE)
  set(_san -fsanitize=${VMODEM_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_compile_options(${_san})
  add_link_options(-fsanitize=${VMODEM_SANITIZE})
endif()

# vmodem_library(NAME folder DEPS ...): a library whose public headers live in
# <folder>/include/vmodem/<folder>/ and private code in <folder>/src/.
function(vmodem_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                                     PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE vmodem_options ${ARG_PRIVATE_DEPS})
endfunction()
