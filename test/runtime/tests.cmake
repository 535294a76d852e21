add_test(NAME runtime.run_file_pipe_follow
         COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/runtime/check_run.py --sluice ${SLUICE_BIN}
                 --workdir ${WORK}/runtime_run)
