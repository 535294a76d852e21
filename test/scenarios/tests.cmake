# Data-driven scenario tests (see test/scenarios/README.md). Included from test/CMakeLists.txt,
# where PY, SLUICE_BIN and CMAKE_CURRENT_SOURCE_DIR (= test/) are set.
# One ctest test per scenario file, named scenario.<basename>, plus scenario.self_check which
# proves the runner reports a wrong expectation. CONFIGURE_DEPENDS re-globs when files are added.
set(SLUICE_SCENARIO_DIR ${CMAKE_CURRENT_SOURCE_DIR}/scenarios)
file(GLOB SLUICE_SCENARIO_FILES CONFIGURE_DEPENDS ${SLUICE_SCENARIO_DIR}/*.test)
list(SORT SLUICE_SCENARIO_FILES)
foreach(scenario_file ${SLUICE_SCENARIO_FILES})
  get_filename_component(scenario_name ${scenario_file} NAME_WE)
  add_test(NAME scenario.${scenario_name}
           COMMAND ${PY} ${SLUICE_SCENARIO_DIR}/run_scenarios.py --sluice ${SLUICE_BIN} ${scenario_file})
  set_tests_properties(scenario.${scenario_name} PROPERTIES TIMEOUT 300)
endforeach()
add_test(NAME scenario.self_check
         COMMAND ${PY} ${SLUICE_SCENARIO_DIR}/run_scenarios.py --sluice ${SLUICE_BIN} --self-check)
set_tests_properties(scenario.self_check PROPERTIES TIMEOUT 600)
