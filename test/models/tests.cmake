# sluice predict against python3-xgboost's own predict (the oracle): every supported booster and
# objective, NaNs, categorical splits, dart, gblinear, multi-class; plus refused models. ~5 s.
add_test(NAME models.predict_parity
         COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/models/check_parity.py ${SLUICE_BIN}
                 --workdir ${WORK}/models_parity)
