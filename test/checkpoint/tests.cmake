# Checkpoints (docs/checkpoints.md): the RocksDB store's unit tests, and the exactly-once property
# end to end (checkpoint_driver: split, checkpoint, restore with another shard count, compare).
add_executable(checkpoint_driver ${CMAKE_CURRENT_LIST_DIR}/checkpoint_driver.cc)
target_link_libraries(checkpoint_driver PRIVATE sluice_engine)
add_executable(checkpoint_store_test ${CMAKE_CURRENT_LIST_DIR}/checkpoint_store_test.cc)
target_link_libraries(checkpoint_store_test PRIVATE sluice_engine GTest::gtest_main)
# ChildWritesForever is the child process the kill -9 test starts, not a test of its own.
gtest_discover_tests(checkpoint_store_test TEST_PREFIX "checkpoint." DISCOVERY_TIMEOUT 60
                     TEST_FILTER "-CheckpointStore.ChildWritesForever")

set(CHECKPOINT_PY ${CMAKE_CURRENT_LIST_DIR}/check_checkpoints.py)
add_test(NAME checkpoint.oracle_logs
         COMMAND ${PY} ${CHECKPOINT_PY} --driver $<TARGET_FILE:checkpoint_driver>
                 --workdir ${WORK}/checkpoint_oracle --oracle-logs --seeds 2 --events 1200)
add_test(NAME checkpoint.fraud
         COMMAND ${PY} ${CHECKPOINT_PY} --driver $<TARGET_FILE:checkpoint_driver>
                 --workdir ${WORK}/checkpoint_fraud --fraud --sluice ${SLUICE_BIN} --seeds 2
                 --events 4000)
