add_test(NAME learn.train_oracle
         COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/learn/check_train.py --sluice ${SLUICE_BIN}
                 --workdir ${WORK}/learn_train)
