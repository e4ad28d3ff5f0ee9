#include <atomic>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>
#include <zmq_addon.hpp>

#include "transport/ZmqPublisher.hpp"
#include "transport/ZmqSockets.hpp"

using namespace flowlier::transport;

TEST_CASE("ZmqPublisher frames [topic][payload][sequence] with consecutive sequence numbers") {
  zmq::context_t context;
  SocketOptions options;
  ZmqPublisher publisher(context, "inproc://test.pub", options, 7);
  zmq::socket_t sub(context, zmq::socket_type::sub);
  sub.set(zmq::sockopt::linger, 0);
  sub.set(zmq::sockopt::subscribe, "anomaly.");
  sub.connect("inproc://test.pub");
  CHECK(publisher.publish("anomaly.high.interface", "{\"a\":1}") == 7);
  CHECK(publisher.publish("resolved.interface", "{}") == 8);  // filtered out by the prefix
  CHECK(publisher.publish("anomaly.low.address", "{\"b\":2}") == 9);
  std::vector<zmq::message_t> parts;
  REQUIRE(zmq::recv_multipart(sub, std::back_inserter(parts)));
  REQUIRE(parts.size() == 3);
  CHECK(parts[0].to_string() == "anomaly.high.interface");
  CHECK(parts[1].to_string() == "{\"a\":1}");
  CHECK(parts[2].to_string() == "7");
  parts.clear();
  REQUIRE(zmq::recv_multipart(sub, std::back_inserter(parts)));
  CHECK(parts[2].to_string() == "9");  // the gap shows what this subscriber did not get
}

TEST_CASE("send_counted blocks at the high-water mark and counts it, losing nothing") {
  zmq::context_t context;
  SocketOptions options;
  options.send_hwm = options.receive_hwm = 2;
  zmq::socket_t pull(context, zmq::socket_type::pull);
  apply_options(pull, options);
  pull.bind("inproc://test.hop");
  zmq::socket_t push(context, zmq::socket_type::push);
  apply_options(push, options);
  push.connect("inproc://test.hop");
  std::atomic<std::uint64_t> blocks{0};
  int in_order = 0;  // Catch2 assertions are not thread-safe: the consumer only counts
  std::thread consumer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the sender fill the hop
    for (int i = 0; i < 50; ++i) {
      std::vector<zmq::message_t> parts;
      if (!zmq::recv_multipart(pull, std::back_inserter(parts))) return;
      if (parts.size() == 2 && parts[1].to_string() == std::to_string(i)) ++in_order;
    }
  });
  for (int i = 0; i < 50; ++i) {
    std::vector<zmq::message_t> parts;
    parts.emplace_back(std::string_view("x"));
    parts.emplace_back(std::to_string(i));
    REQUIRE(send_counted(push, parts, blocks));
  }
  consumer.join();
  CHECK(in_order == 50);
  CHECK(blocks.load() >= 1);
}
