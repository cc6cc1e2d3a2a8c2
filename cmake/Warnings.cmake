# zf_target_defaults(<target>): the project's warning set and language level.
# Warnings are errors when ZF_WERROR is ON (CI turns it on).
option(ZF_WERROR "Treat warnings as errors" OFF)

function(zf_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_17)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow)
  if(ZF_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
    # GCC 12 reports -Wmaybe-uninitialized inside libstdc++'s std::variant and
    # std::string moves at -O3 (e.g. proto::StatusOr<proto::Reply>), false
    # positives that depend on the optimisation level: they stay warnings, so
    # a Release build does not fail where the RelWithDebInfo CI build passes.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      target_compile_options(${target} PRIVATE -Wno-error=maybe-uninitialized)
    endif()
  endif()
endfunction()
