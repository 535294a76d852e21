add_test(NAME cli.contract COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/cli/check_cli.py ${SLUICE_BIN})
