# Bad-input robustness and fuzzing; included from test/CMakeLists.txt, which defines PY, SLUICE_BIN,
# SLUICE_ASAN_BIN, SLUICE_FUZZ_DIR and WORK. See test/bad_input/README.md and test/fuzz/README.md.
# The sanitizer binary and the fuzzers come from the `sanitize` preset (build-sanitize/); CI always
# builds it, so these tests FAIL with a message naming the build command when it is missing.
set(BAD_INPUT_CHECK ${CMAKE_CURRENT_LIST_DIR}/check_bad_input.py)

add_test(NAME bad_input.release
         COMMAND ${PY} ${BAD_INPUT_CHECK} --sluice ${SLUICE_BIN} --workdir ${WORK}/bad_input/release)
add_test(NAME bad_input.self_check
         COMMAND ${PY} ${BAD_INPUT_CHECK} --sluice ${SLUICE_BIN} --workdir ${WORK}/bad_input/self_check
                 --self-check --threads 1)
add_test(NAME bad_input.asan
         COMMAND ${PY} ${BAD_INPUT_CHECK} --sluice ${SLUICE_ASAN_BIN} --workdir ${WORK}/bad_input/asan)
set_tests_properties(bad_input.release bad_input.self_check PROPERTIES TIMEOUT 300)
set_tests_properties(bad_input.asan PROPERTIES TIMEOUT 900)

include(${CMAKE_CURRENT_LIST_DIR}/../fuzz/targets.cmake)
foreach(name ${SLUICE_FUZZ_TARGETS})
  add_test(NAME fuzz.${name}
           COMMAND ${PY} ${CMAKE_CURRENT_LIST_DIR}/../fuzz/run_fuzz.py --fuzz-dir ${SLUICE_FUZZ_DIR}
                   --name ${name} --workdir ${WORK}/fuzz/${name} --seconds 20 --rss-limit-mb 2048)
  set_tests_properties(fuzz.${name} PROPERTIES TIMEOUT 240)
endforeach()
