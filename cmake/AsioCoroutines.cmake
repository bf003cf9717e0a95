# Sources that hold Asio coroutine servers trip two compiler problems: a g++ 12 false positive on the awaitable
# frame's operator delete (-Wmismatched-new-delete), and clang 14 failing to emit coroutine frames under UBSan
# ("Cannot represent a difference across sections") in the fuzz and sanitizer builds, where these files get
# ASan only. Call from the CMakeLists.txt of the folder the sources live in.
function(bootherd_asio_coroutine_sources)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS -Wno-mismatched-new-delete)
  elseif(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND (BOOTHERD_FUZZ OR BOOTHERD_SANITIZE))
    set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS -fno-sanitize=undefined)
  endif()
endfunction()
