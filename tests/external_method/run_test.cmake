# CTest driver: install petlab into a scratch prefix, build this folder as a separate project against it,
# then ask the petlab binary to check the plugin it produced.
foreach(var PETLAB_BUILD_DIR EXAMPLE_SOURCE_DIR WORK_DIR TORCH_PREFIX PETLAB_BINARY GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_test.cmake needs -D${var}=...")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
run(${CMAKE_COMMAND} --install "${PETLAB_BUILD_DIR}" --prefix "${prefix}")
# The prefix list travels in the environment: a ';' in an execute_process argument would split it.
run(${CMAKE_COMMAND} -E env "CMAKE_PREFIX_PATH=${prefix}:${TORCH_PREFIX}"
    ${CMAKE_COMMAND} -S "${EXAMPLE_SOURCE_DIR}" -B "${WORK_DIR}/build" -G "${GENERATOR}" -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
set(plugin "${WORK_DIR}/build/lib/petlab/plugins/petlab-output_scale.so")
run("${PETLAB_BINARY}" plugins check "${plugin}")
if(NOT last_output MATCHES "output_scale 0.1.0")
  message(FATAL_ERROR "plugins check did not list the method:\n${last_output}")
endif()
run("${prefix}/bin/petlab" --plugin-path "${WORK_DIR}/build/lib/petlab/plugins" methods --json)
if(NOT last_output MATCHES "\"id\": \"output_scale\"")
  message(FATAL_ERROR "the installed petlab did not load the method:\n${last_output}")
endif()
message(STATUS "external method built against the installed package and loaded")
