// ZmqPublisher against real SUB sockets: a subscriber at its high-water mark is counted,
// never blocks the publisher, and misses events that the other subscribers still get.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <zmq_addon.hpp>

#include "transport/ZmqCurve.hpp"
#include "transport/ZmqPublisher.hpp"

using namespace flowlier::transport;
using std::chrono::milliseconds;

namespace {

struct Received {
  std::vector<std::uint64_t> sequences;
  std::vector<std::string> topics;
  std::size_t malformed = 0;  // not [topic][payload][decimal sequence], or a payload of the wrong size
};

zmq::socket_t subscriber(zmq::context_t& context, const std::string& endpoint, const std::string& prefix,
                         int receive_hwm) {
  zmq::socket_t sub(context, zmq::socket_type::sub);
  sub.set(zmq::sockopt::linger, 0);
  sub.set(zmq::sockopt::rcvhwm, receive_hwm);
  sub.set(zmq::sockopt::rcvbuf, 4096);  // small kernel buffers: the high-water marks show sooner
  sub.set(zmq::sockopt::subscribe, prefix);
  sub.connect(endpoint);
  return sub;
}

// Reads events until `sub` has been quiet for `quiet`.
void read_all(zmq::socket_t& sub, milliseconds quiet, Received& out, std::size_t payload_size) {
  while (true) {
    zmq::pollitem_t item{sub.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, quiet);
    if (!(item.revents & ZMQ_POLLIN)) return;
    std::vector<zmq::message_t> parts;
    if (!zmq::recv_multipart(sub, std::back_inserter(parts))) return;
    const std::string text = parts.size() == 3 ? parts[2].to_string() : std::string();
    if (parts.size() != 3 || parts[1].size() != payload_size || text.empty() ||
        text.find_first_not_of("0123456789") != std::string::npos) {
      ++out.malformed;
      continue;
    }
    out.topics.push_back(parts[0].to_string());
    out.sequences.push_back(std::stoull(text));
  }
}

// Publishes small probes on `topic` until every subscriber got one (their subscriptions
// have reached the publisher), then empties them. Returns the last probe's sequence.
std::uint64_t wait_subscribed(ZmqPublisher& publisher, std::vector<zmq::socket_t*> subs, const std::string& topic) {
  std::vector<bool> got(subs.size(), false);
  std::uint64_t last = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::find(got.begin(), got.end(), false) != got.end() && std::chrono::steady_clock::now() < deadline) {
    last = publisher.publish(topic, "p");
    for (std::size_t i = 0; i < subs.size(); ++i) {
      Received r;
      read_all(*subs[i], milliseconds(10), r, 1);
      got[i] = got[i] || !r.sequences.empty();
    }
  }
  REQUIRE(std::find(got.begin(), got.end(), false) == got.end());
  for (auto* sub : subs) {
    Received r;
    read_all(*sub, milliseconds(100), r, 1);
  }
  return last;
}

bool strictly_increasing_within(const std::vector<std::uint64_t>& s, std::uint64_t after, std::uint64_t last) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] <= after || s[i] > last || (i > 0 && s[i] <= s[i - 1])) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("ZmqPublisher: a subscriber that does not read is counted, never blocks, and costs only itself",
          "[integration]") {
  zmq::context_t context;
  SocketOptions options;
  options.send_hwm = options.receive_hwm = 1000;
  ZmqPublisher publisher(context, "tcp://127.0.0.1:*", options);
  const std::string endpoint = publisher.endpoint();
  // Both subscribe to the events' topic; `stuck` reads nothing while they are published
  // (a small pipe and kernel buffer), `reader` reads all the time on its own thread.
  zmq::socket_t stuck = subscriber(context, endpoint, "anomaly.", 10);
  zmq::socket_t reader = subscriber(context, endpoint, "anomaly.", 0);
  const std::uint64_t last_probe = wait_subscribed(publisher, {&stuck, &reader}, "anomaly.probe");
  REQUIRE(publisher.overflows() == 0);

  constexpr std::uint64_t kEvents = 20000;
  const std::string payload(1024, 'x');
  Received from_reader;
  std::atomic<bool> publishing{true};
  std::thread reading([&] {
    while (publishing.load()) read_all(reader, milliseconds(10), from_reader, payload.size());
    read_all(reader, milliseconds(500), from_reader, payload.size());
  });
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t expected_sequence = last_probe + 1;
  bool consecutive = true;
  for (std::uint64_t i = 0; i < kEvents; ++i) {
    consecutive = consecutive && publisher.publish("anomaly.high.interface", payload) == expected_sequence++;
    // Paced a little, so a reading subscriber keeps up; the stuck one cannot.
    if (i % 20 == 19) std::this_thread::sleep_for(milliseconds(1));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  publishing.store(false);
  reading.join();
  CHECK(consecutive);  // every event consumes its sequence number
  CHECK(seconds < 20.0);  // it returned at all: nothing waited for the stuck subscriber
  const std::uint64_t overflows = publisher.overflows();
  CHECK(overflows > 0);

  Received from_stuck;
  read_all(stuck, milliseconds(500), from_stuck, payload.size());
  CHECK(from_stuck.malformed == 0);
  CHECK(from_reader.malformed == 0);
  const std::uint64_t last = last_probe + kEvents;
  // The reader got every event, in order, although the stuck subscriber overflowed.
  std::vector<std::uint64_t> all;
  for (std::uint64_t s = last_probe + 1; s <= last; ++s) all.push_back(s);
  CHECK(from_reader.sequences == all);
  // The stuck one got a prefix-like subset with gaps, at least one missed per overflow.
  CHECK(strictly_increasing_within(from_stuck.sequences, last_probe, last));
  CHECK(from_stuck.sequences.size() + overflows <= kEvents);
  UNSCOPED_INFO("sent " << kEvents << " in " << seconds << " s; reader received " << from_reader.sequences.size()
                        << ", stuck received " << from_stuck.sequences.size()
                        << ", overflows " << overflows);
  CHECK(publisher.next_sequence() == last + 1);
}

TEST_CASE("ZmqPublisher: a full subscriber misses its topic's events, others of any topic get them; no subscriber "
          "is no overflow") {
  zmq::context_t context;
  SocketOptions options;
  options.send_hwm = options.receive_hwm = 1;
  ZmqPublisher publisher(context, "inproc://test.pubdrop", options);
  for (std::uint64_t i = 1; i <= 100; ++i) REQUIRE(publisher.publish("anomaly.high.interface", "{}") == i);
  CHECK(publisher.overflows() == 0);  // no subscriber at all: nobody asked for them

  zmq::socket_t idle = subscriber(context, "inproc://test.pubdrop", "resolved.", 1);
  zmq::socket_t same_topic = subscriber(context, "inproc://test.pubdrop", "resolved.", 1);
  zmq::socket_t reader = subscriber(context, "inproc://test.pubdrop", "anomaly.", 1);
  wait_subscribed(publisher, {&idle, &same_topic}, "resolved.probe");
  const std::uint64_t last_probe = wait_subscribed(publisher, {&reader}, "anomaly.probe");
  // `idle` reads nothing from here on: its pipe (one message each side) fills. The
  // subscriber of the same topic that reads after every event still gets them all.
  Received from_same_topic;
  for (int i = 0; i < 1000; ++i) {
    publisher.publish("resolved.interface", "{}");
    read_all(same_topic, milliseconds(0), from_same_topic, 2);
  }
  read_all(same_topic, milliseconds(100), from_same_topic, 2);
  const std::uint64_t overflows = publisher.overflows();
  CHECK(overflows > 0);
  CHECK(from_same_topic.sequences.size() == 1000);
  CHECK(strictly_increasing_within(from_same_topic.sequences, last_probe, last_probe + 1000));

  // Events of another topic are not held up by it either.
  Received from_reader;
  for (int i = 0; i < 1000; ++i) {
    publisher.publish("anomaly.high.interface", "{}");
    read_all(reader, milliseconds(0), from_reader, 2);
  }
  read_all(reader, milliseconds(100), from_reader, 2);
  CHECK(from_reader.sequences.size() == 1000);
  CHECK(strictly_increasing_within(from_reader.sequences, last_probe + 1000, last_probe + 2000));

  Received from_idle;
  read_all(idle, milliseconds(200), from_idle, 2);
  CHECK(from_idle.malformed == 0);
  CHECK(from_idle.sequences.size() + overflows <= 1000);
  CHECK(strictly_increasing_within(from_idle.sequences, last_probe, last_probe + 1000));
  for (const auto& topic : from_idle.topics) CHECK(topic == "resolved.interface");
}

TEST_CASE("ZmqPublisher as a CURVE server delivers to an allow-listed subscriber", "[integration]") {
  zmq::context_t context;
  const auto server = generate_curve_keypair();
  const auto client = generate_curve_keypair();
  ZapHandler zap(context, {client.public_key});
  SocketOptions options;
  ZmqPublisher publisher(context, "tcp://127.0.0.1:*", options, 41, server.secret_key);
  zmq::socket_t sub(context, zmq::socket_type::sub);
  sub.set(zmq::sockopt::linger, 0);
  make_curve_client(sub, client, server.public_key);
  sub.set(zmq::sockopt::subscribe, "");
  sub.connect(publisher.endpoint());
  const std::uint64_t last_probe = wait_subscribed(publisher, {&sub}, "probe");
  CHECK(last_probe >= 41);
  CHECK(publisher.publish("anomaly.low.address", "{\"b\":2}") == last_probe + 1);
  Received got;
  read_all(sub, milliseconds(1000), got, 7);
  REQUIRE(got.sequences.size() == 1);
  CHECK(got.topics[0] == "anomaly.low.address");
  CHECK(got.sequences[0] == last_probe + 1);
  CHECK(publisher.overflows() == 0);
  CHECK(zap.admitted() == 1);
  sub.close();
  zap.stop();
}
