# cmake -DINPUT=page.html -DOUTPUT=page.cc -P embed_page.cmake
file(READ ${INPUT} page)
string(FIND "${page}" ")JSCPVIEW\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )JSCPVIEW\"")
endif()
file(WRITE ${OUTPUT} "// Generated from ${INPUT} by embed_page.cmake; do not edit.\nnamespace jitscope {\nextern const char kViewPageHtml[];\nconst char kViewPageHtml[] = R\"JSCPVIEW(${page})JSCPVIEW\";\n}  // namespace jitscope\n")
