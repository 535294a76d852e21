# Models: the registry CLI end to end, and FTRL against a transcription of the paper's Algorithm 1.
add_executable(ftrl_driver ${CMAKE_CURRENT_SOURCE_DIR}/models/ftrl_driver.cc)
target_link_libraries(ftrl_driver PRIVATE sluice_models)
add_test(NAME models.registry_cli
         COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/models/check_registry.py ${SLUICE_BIN} ${WORK}/models_registry)
add_test(NAME models.ftrl_oracle
         COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/models/check_ftrl.py $<TARGET_FILE:ftrl_driver> ${WORK}/models_ftrl)
