# Models: sluice predict against python3-xgboost's own predict (the oracle): every supported
# booster and objective, NaNs, categorical splits, dart, gblinear, multi-class; plus refused
# models (~5 s). The registry CLI end to end, and FTRL against a transcription of the paper's
# Algorithm 1.
add_test(NAME models.predict_parity
         COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/models/check_parity.py ${SLUICE_BIN}
                 --workdir ${WORK}/models_parity)
add_executable(ftrl_driver ${CMAKE_CURRENT_SOURCE_DIR}/models/ftrl_driver.cc)
target_link_libraries(ftrl_driver PRIVATE sluice_models)
add_test(NAME models.registry_cli
         COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/models/check_registry.py ${SLUICE_BIN} ${WORK}/models_registry)
add_test(NAME models.ftrl_oracle
         COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/models/check_ftrl.py $<TARGET_FILE:ftrl_driver> ${WORK}/models_ftrl)
