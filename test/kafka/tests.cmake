# Kafka: the librdkafka wrappers against an in-process mock cluster (GoogleTest), and
# `sluice kafka-dev` end to end with kcat as the independent client (~70 s in all).
add_executable(kafka_test ${CMAKE_CURRENT_SOURCE_DIR}/kafka/kafka_consumer_test.cc
                          ${CMAKE_CURRENT_SOURCE_DIR}/kafka/kafka_txn_test.cc)
target_link_libraries(kafka_test PRIVATE sluice_io GTest::gtest_main)
# KafkaRealBroker.* needs a real Kafka (the mock writes no transaction markers), which a CI
# machine does not have: run it by hand with
#   SLUICE_KAFKA_TEST_BROKERS=host:9092 build/test/kafka_test --gtest_filter='KafkaRealBroker.*'
gtest_discover_tests(kafka_test TEST_PREFIX "kafka." DISCOVERY_TIMEOUT 60
                     TEST_FILTER "-KafkaRealBroker.*" PROPERTIES TIMEOUT 60)
add_test(NAME kafka.kafka_dev_kcat
         COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/kafka/check_kafka_dev.py ${SLUICE_BIN} ${WORK}/kafka_dev)
set_tests_properties(kafka.kafka_dev_kcat PROPERTIES TIMEOUT 120)
add_test(NAME kafka.run_end_to_end
         COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/kafka/check_run_kafka.py ${SLUICE_BIN} ${WORK}/kafka_run)
set_tests_properties(kafka.run_end_to_end PROPERTIES TIMEOUT 240)
# The same under ASan+UBSan (~45 s): the Kafka source's paths (aligner, dead letters' origin,
# rebalance callbacks) with a bad record of every kind. It found a dead letter's source viewing
# a destroyed temporary, which the release build printed correctly by chance.
add_test(NAME kafka.run_end_to_end_asan
         COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/kafka/check_run_kafka.py ${SLUICE_ASAN_BIN} ${WORK}/kafka_run_asan)
set_tests_properties(kafka.run_end_to_end_asan PROPERTIES TIMEOUT 400)
# kill -9 twice mid-stream with broker faults, restart on the same --state (~30 s).
add_test(NAME kafka.crash_recovery
         COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/kafka/check_crash_kafka.py ${SLUICE_BIN} ${WORK}/kafka_crash)
set_tests_properties(kafka.crash_recovery PROPERTIES TIMEOUT 180)
# Restarts replay (without output) what was delivered after the checkpoint; exactly_once's
# transactional output across a restart (~40 s).
add_test(NAME kafka.replay_exactly_once
         COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/kafka/check_replay_kafka.py ${SLUICE_BIN} ${WORK}/kafka_replay)
set_tests_properties(kafka.replay_exactly_once PROPERTIES TIMEOUT 240)
# A slow sink (brokers answering 400 ms late) slows consumption; memory bounded; lag metric (~20 s).
add_test(NAME kafka.backpressure
         COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/kafka/check_backpressure_kafka.py ${SLUICE_BIN} ${WORK}/kafka_backpressure)
set_tests_properties(kafka.backpressure PROPERTIES TIMEOUT 240)
# Two engines in one group, the second joining mid-stream: both keep running, nothing is lost,
# neither repeats itself (~25 s).
add_test(NAME kafka.rebalance
         COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/kafka/check_rebalance_kafka.py ${SLUICE_BIN} ${WORK}/kafka_rebalance)
set_tests_properties(kafka.rebalance PROPERTIES TIMEOUT 240)
