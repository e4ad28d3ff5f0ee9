#include <chrono>
#include <cstdio>
#include <fstream>

#include <catch2/catch.hpp>

#include "transport/ZmqCurve.hpp"

using namespace flowlier::transport;

namespace {
bool receive_within(zmq::socket_t& socket, std::chrono::milliseconds timeout, std::string& out) {
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, timeout);
  if (!(item.revents & ZMQ_POLLIN)) return false;
  zmq::message_t m;
  if (!socket.recv(m)) return false;
  out = m.to_string();
  return true;
}
}  // namespace

TEST_CASE("CURVE keys: generated pairs are Z85 and the public key follows from the secret") {
  const auto pair = generate_curve_keypair();
  CHECK(is_z85_key(pair.public_key));
  CHECK(is_z85_key(pair.secret_key));
  CHECK(curve_public_key(pair.secret_key) == pair.public_key);
  CHECK(!curve_public_key("too short"));
  CHECK(!is_z85_key(std::string(40, '"')));
}

TEST_CASE("Key files: comments skipped, bad lines named by number, not by content") {
  const std::string path = "zmq_curve_test_keys.txt";
  const auto a = generate_curve_keypair();
  {
    std::ofstream out(path);
    out << "# allowed clients\n\n" << a.public_key << "\n";
  }
  std::string error;
  auto keys = read_keys_file(path, error);
  REQUIRE(keys);
  CHECK(keys->count(a.public_key) == 1);
  CHECK(read_key_file(path, error) == a.public_key);
  {
    std::ofstream out(path);
    out << a.public_key << "\nnot-a-key-but-secret-looking\n";
  }
  CHECK(!read_keys_file(path, error));
  CHECK(error == path + ":2: not a 40-character Z85 key");
  CHECK(error.find("secret-looking") == std::string::npos);
  std::remove(path.c_str());
  CHECK(!read_keys_file(path, error));
}

TEST_CASE("ZAP admits allow-listed CURVE clients and refuses and counts the others") {
  zmq::context_t context;
  const auto server = generate_curve_keypair();
  const auto good = generate_curve_keypair();
  const auto bad = generate_curve_keypair();
  ZapHandler zap(context, {good.public_key});
  zmq::socket_t pull(context, zmq::socket_type::pull);
  pull.set(zmq::sockopt::linger, 0);
  make_curve_server(pull, server.secret_key);
  pull.bind("tcp://127.0.0.1:*");
  const std::string endpoint = pull.get(zmq::sockopt::last_endpoint);

  zmq::socket_t intruder(context, zmq::socket_type::push);
  intruder.set(zmq::sockopt::linger, 0);
  make_curve_client(intruder, bad, server.public_key);
  intruder.connect(endpoint);
  intruder.send(zmq::str_buffer("from the wrong key"), zmq::send_flags::dontwait);
  std::string got;
  CHECK(!receive_within(pull, std::chrono::milliseconds(500), got));
  CHECK(zap.refused() >= 1);
  CHECK(zap.admitted() == 0);

  zmq::socket_t client(context, zmq::socket_type::push);
  client.set(zmq::sockopt::linger, 0);
  make_curve_client(client, good, server.public_key);
  client.connect(endpoint);
  client.send(zmq::str_buffer("hello"), zmq::send_flags::none);
  REQUIRE(receive_within(pull, std::chrono::milliseconds(3000), got));
  CHECK(got == "hello");
  CHECK(zap.admitted() == 1);
  intruder.close();
  client.close();
  pull.close();
  zap.stop();
}
