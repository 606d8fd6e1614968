# petlab_add_method(NAME SOURCES src... [OUTPUT_DIRECTORY dir])
#
# Builds a method plugin: a shared module linked against the SDK and LibTorch, exporting only
# `petlab_entry` (version script) and refusing undefined symbols at link time (-z defs), so a plugin that
# would fail to load is caught by the linker instead. Used by petlab's own plugins and installed for
# third parties through petlabConfig.cmake.
include_guard(GLOBAL)
set(PETLAB_PLUGIN_MAP "${CMAKE_CURRENT_LIST_DIR}/plugin.map" CACHE INTERNAL "")

function(petlab_add_method name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "petlab_add_method(${name}): SOURCES is required")
  endif()
  if(NOT ARG_OUTPUT_DIRECTORY)
    set(ARG_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/lib/petlab/plugins")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE petlab::sdk)
  set_target_properties(${name} PROPERTIES
    PREFIX "" OUTPUT_NAME "petlab-${name}"
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  target_link_options(${name} PRIVATE
    "-Wl,--version-script=${PETLAB_PLUGIN_MAP}" "-Wl,-z,defs")
  set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS "${PETLAB_PLUGIN_MAP}")
endfunction()
