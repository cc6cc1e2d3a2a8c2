# ZF_SANITIZE=address,undefined (or thread) instruments every target.
set(ZF_SANITIZE "" CACHE STRING "Comma-separated -fsanitize= list, e.g. address,undefined")
if(ZF_SANITIZE)
  add_compile_options(-fsanitize=${ZF_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${ZF_SANITIZE})
endif()
