add_test(NAME runtime.run_file_pipe_follow
         COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/runtime/check_run.py --sluice ${SLUICE_BIN}
                 --workdir ${WORK}/runtime_run)
add_test(NAME runtime.crash_recovery
         COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/runtime/check_crash.py ${SLUICE_BIN}
                 ${WORK}/runtime_crash)
set_tests_properties(runtime.crash_recovery PROPERTIES TIMEOUT 300)
