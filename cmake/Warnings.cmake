# zf_target_defaults(<target>): the project's warning set and language level.
# Warnings are errors when ZF_WERROR is ON (CI turns it on).
option(ZF_WERROR "Treat warnings as errors" OFF)

function(zf_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_17)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow)
  if(ZF_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
