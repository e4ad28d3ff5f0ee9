// Every door checks what comes in: the HTTP ingest server under slow, idle and hostile
// clients; ZeroMQ refusals counted by the socket monitor; key files of the wrong kind;
// secrets kept out of logs, dead letters and errors.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/transport/TestEvents.hpp"
#include "transport/DeliveryService.hpp"
#include "transport/HttpIngestServer.hpp"
#include "transport/HttpRequestHead.hpp"
#include "transport/SinkConfig.hpp"
#include "transport/ZmqCurve.hpp"
#include "transport/ZmqMonitor.hpp"

using namespace flowlier::transport;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {
using Clock = std::chrono::steady_clock;

int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

// Everything the server sends until it closes (or 10 s).
std::string read_all(int fd) {
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string response;
  char buffer[1024];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) response.append(buffer, static_cast<std::size_t>(n));
  return response;
}

std::string exchange(std::uint16_t port, const std::string& request) {
  const int fd = connect_to(port);
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  auto response = read_all(fd);
  ::close(fd);
  return response;
}

const std::string kPost = "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";

bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5000ms) {
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}
}  // namespace

TEST_CASE("HTTP head: parsed line by line as it arrives; malformed heads are bad") {
  InboundRequest r;
  CHECK(parse_request_head("POST /x HTTP/1.1\r\nX-Amz-Firehose-Access-Key: k\r\nContent-Le", r).status ==
        HeadStatus::incomplete);
  CHECK(r.method == "POST");
  CHECK(r.header("x-amz-firehose-access-key") == "k");
  CHECK(r.headers.count("content-le") == 0);  // a partial line waits
  const auto done = parse_request_head("GET /m?q HTTP/1.1\r\nA: 1\r\n\r\nbody", r);
  CHECK(done.status == HeadStatus::complete);
  CHECK(done.head_bytes == 27);
  CHECK(r.path == "/m");
  CHECK(parse_request_head("garbage\r\n\r\n", r).status == HeadStatus::bad);
  CHECK(parse_request_head("GET / HTTP/1.1\r\nno colon here\r\n\r\n", r).status == HeadStatus::bad);
  CHECK(parse_request_head("GET  HTTP/1.1\r\n\r\n", r).status == HeadStatus::bad);
  CHECK(parse_request_head(std::string(kMaxRequestHeadBytes + 1, 'a'), r).status == HeadStatus::bad);
  CHECK(parse_content_length("12") == 12u);
  CHECK_FALSE(parse_content_length("1x"));
  CHECK_FALSE(parse_content_length(""));
  CHECK_FALSE(parse_content_length("99999999999999999999999"));
}

TEST_CASE("HTTP ingest: idle connections do not delay a valid delivery", "[http]") {
  HttpIngestLimits limits;
  limits.header_timeout = 5000ms;
  HttpIngestServer server([](const InboundRequest&) { return MetricsReply{200, "text/plain", "ok"}; }, limits);
  REQUIRE(server.start("127.0.0.1:0").empty());
  std::vector<int> idle;
  for (int i = 0; i < 8; ++i) idle.push_back(connect_to(server.port()));
  REQUIRE(wait_for([&] { return server.open_connections() == 8; }));
  const auto started = Clock::now();
  CHECK(exchange(server.port(), kPost).starts_with("HTTP/1.1 200 "));
  CHECK(Clock::now() - started < 1s);  // served beside them, not after them (they hold 5 s each)
  for (int fd : idle) ::close(fd);
  server.stop();
}

TEST_CASE("HTTP ingest: slow clients are dropped at their deadline and counted", "[http]") {
  HttpIngestLimits limits;
  limits.header_timeout = 300ms;
  limits.body_timeout = 300ms;
  HttpIngestServer server([](const InboundRequest&) { return MetricsReply{200, "text/plain", "ok"}; }, limits);
  REQUIRE(server.start("127.0.0.1:0").empty());
  const int head = connect_to(server.port());
  ::send(head, "POST / HTTP/1.1\r\n", 17, MSG_NOSIGNAL);
  CHECK(read_all(head).empty());  // dropped after 300 ms
  ::close(head);
  const int body = connect_to(server.port());
  const std::string partial = "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc";
  ::send(body, partial.data(), partial.size(), MSG_NOSIGNAL);
  CHECK(read_all(body).empty());
  ::close(body);
  CHECK(server.refused(HttpRefusal::slow_client) == 2);
  server.stop();
}

TEST_CASE("HTTP ingest: connections over the bound are answered 503 at once and counted", "[http]") {
  HttpIngestLimits limits;
  limits.max_connections = 2;
  limits.header_timeout = 3000ms;
  HttpIngestServer server([](const InboundRequest&) { return MetricsReply{200, "text/plain", "ok"}; }, limits);
  REQUIRE(server.start("127.0.0.1:0").empty());
  const int a = connect_to(server.port());
  const int b = connect_to(server.port());
  REQUIRE(wait_for([&] { return server.open_connections() == 2; }));
  const auto started = Clock::now();
  CHECK(exchange(server.port(), kPost).starts_with("HTTP/1.1 503 "));
  CHECK(Clock::now() - started < 1s);
  CHECK(server.refused(HttpRefusal::too_many_connections) == 1);
  ::close(a);
  ::close(b);
  REQUIRE(wait_for([&] { return server.open_connections() == 0; }));
  CHECK(exchange(server.port(), kPost).starts_with("HTTP/1.1 200 "));
  server.stop();
}

TEST_CASE("HTTP ingest: the key is refused as soon as its header line arrives; every refusal is counted", "[http]") {
  int handled = 0;
  HttpIngestServer server(
      [&handled](const InboundRequest& r) {
        ++handled;
        return r.body == "bad" ? MetricsReply{400, "text/plain", "no"} : MetricsReply{200, "text/plain", "ok"};
      },
      HttpIngestLimits{.max_body_bytes = 16, .header_timeout = 5000ms},
      [](const InboundRequest& r, bool complete) -> std::optional<MetricsReply> {
        const auto key = r.headers.find("x-key");
        if (key == r.headers.end() && !complete) return std::nullopt;
        if (key != r.headers.end() && key->second == "right") return std::nullopt;
        return MetricsReply{401, "text/plain", "wrong key"};
      });
  REQUIRE(server.start("127.0.0.1:0").empty());
  // The head is not finished (no blank line), yet the answer comes at once.
  const int fd = connect_to(server.port());
  const std::string head = "POST / HTTP/1.1\r\nX-Key: wrong\r\nContent-Length: 5\r\n";
  ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
  const auto started = Clock::now();
  CHECK(read_all(fd).starts_with("HTTP/1.1 401 "));
  CHECK(Clock::now() - started < 1s);
  ::close(fd);
  CHECK(exchange(server.port(), "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello").starts_with("HTTP/1.1 401 "));
  const std::string key = "X-Key: right\r\n";
  CHECK(exchange(server.port(), "POST / HTTP/1.1\r\n" + key + "\r\n").starts_with("HTTP/1.1 411 "));
  CHECK(
      exchange(server.port(), "POST / HTTP/1.1\r\n" + key + "Content-Length: x\r\n\r\n").starts_with("HTTP/1.1 400 "));
  CHECK(
      exchange(server.port(), "POST / HTTP/1.1\r\n" + key + "Content-Length: 99\r\n\r\n").starts_with("HTTP/1.1 413 "));
  CHECK(exchange(server.port(), "POST / HTTP/1.1\r\n" + key + "Content-Length: 3\r\n\r\nbad")
            .starts_with("HTTP/1.1 400 "));
  CHECK(exchange(server.port(), "nonsense\r\n\r\n").starts_with("HTTP/1.1 400 "));
  CHECK(exchange(server.port(), "POST / HTTP/1.1\r\n" + key + "Content-Length: 2\r\n\r\nok")
            .starts_with("HTTP/1.1 200 "));
  CHECK(handled == 2);  // only the last two reached the handler
  CHECK(server.refused(HttpRefusal::wrong_key) == 2);
  CHECK(server.refused(HttpRefusal::length_required) == 1);
  CHECK(server.refused(HttpRefusal::bad_request) == 2);
  CHECK(server.refused(HttpRefusal::body_too_large) == 1);
  CHECK(server.refused(HttpRefusal::bad_body) == 1);
  server.stop();
}

TEST_CASE("Key files: a file of the wrong kind is refused, naming the file") {
  const auto pair = generate_curve_keypair();
  const std::string dir = (fs::temp_directory_path() / fmt::format("flowlier-keys-{}", ::getpid())).string();
  fs::create_directories(dir);
  const std::string secret = dir + "/server.key", pub = dir + "/server.pub";
  std::ofstream(secret) << "# flowlier CURVE secret key: keep private (run --curve-secret)\n"
                        << pair.secret_key << "\n";
  std::ofstream(pub) << "# flowlier CURVE public key (share: --curve-allow on servers, --curve-peer on clients)\n"
                     << pair.public_key << "\n";
  std::string error;
  CHECK_FALSE(read_key_file(pub, error));
  CHECK(error == pub + ":1: this is a CURVE public key file, a secret key is needed here");
  error.clear();
  CHECK_FALSE(read_keys_file(secret, error));
  CHECK(error == secret + ":1: this is a CURVE secret key file, a public key is needed here");
  CHECK(error.find(pair.secret_key) == std::string::npos);
  CHECK(read_key_file(secret, error) == pair.secret_key);
  CHECK(read_keys_file(pub, error)->count(pair.public_key) == 1);
  fs::remove_all(dir);
}

namespace {
bool received_within(zmq::socket_t& socket, std::chrono::milliseconds timeout) {
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, timeout);
  if (!(item.revents & ZMQ_POLLIN)) return false;
  zmq::message_t m;
  return socket.recv(m, zmq::recv_flags::dontwait).has_value();
}
}  // namespace

TEST_CASE("Socket monitor: CURVE handshake failures are counted by reason", "[zmq]") {
  zmq::context_t context;
  const auto server = generate_curve_keypair();
  const auto allowed = generate_curve_keypair();
  const auto stranger = generate_curve_keypair();
  ZapHandler zap(context, {allowed.public_key});
  zmq::socket_t pull(context, zmq::socket_type::pull);
  pull.set(zmq::sockopt::linger, 0);
  make_curve_server(pull, server.secret_key);
  SocketMonitor monitor(context, pull);
  pull.bind("tcp://127.0.0.1:*");
  const std::string endpoint = pull.get(zmq::sockopt::last_endpoint);
  const auto client = [&](const CurveKeyPair* own, const std::string& server_key) {
    zmq::socket_t push(context, zmq::socket_type::push);
    push.set(zmq::sockopt::linger, 0);
    if (own) make_curve_client(push, *own, server_key);
    push.connect(endpoint);
    push.send(zmq::str_buffer("x"), zmq::send_flags::dontwait);
    return push;
  };
  auto plain = client(nullptr, "");
  // libzmq names the mismatch, unless the client hung up first (then: no detail).
  CHECK(wait_for([&] {
    return monitor.handshake_failures(HandshakeFailure::mechanism_mismatch) +
               monitor.handshake_failures(HandshakeFailure::no_detail) >=
           1;
  }));
  auto wrong_server = client(&allowed, stranger.public_key);
  CHECK(wait_for([&] { return monitor.handshake_failures(HandshakeFailure::cryptographic) >= 1; }));
  auto refused = client(&stranger, server.public_key);
  CHECK(wait_for([&] { return monitor.handshake_failures(HandshakeFailure::auth_refused) >= 1; }));
  CHECK_FALSE(received_within(pull, 100ms));
  auto good = client(&allowed, server.public_key);
  CHECK(received_within(pull, 3000ms));
  for (auto* s : {&plain, &wrong_server, &refused, &good}) s->close();
  monitor.stop();
  pull.close();
  zap.stop();
}

TEST_CASE("Socket monitor: a message over ZMQ_MAXMSGSIZE disconnects its sender, counted", "[zmq]") {
  zmq::context_t context;
  zmq::socket_t pull(context, zmq::socket_type::pull);
  pull.set(zmq::sockopt::linger, 0);
  pull.set(zmq::sockopt::maxmsgsize, std::int64_t{1000});
  SocketMonitor monitor(context, pull);
  pull.bind("tcp://127.0.0.1:*");
  const std::string endpoint = pull.get(zmq::sockopt::last_endpoint);
  zmq::socket_t push(context, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 0);
  push.connect(endpoint);
  push.send(zmq::str_buffer("small"), zmq::send_flags::none);
  REQUIRE(received_within(pull, 3000ms));
  CHECK(monitor.disconnects() == 0);
  const std::string big(5000, 'x');
  push.send(zmq::buffer(big), zmq::send_flags::none);
  CHECK(wait_for([&] { return monitor.disconnects() >= 1; }));
  CHECK_FALSE(received_within(pull, 100ms));  // lost: that is why it is counted
  CHECK(monitor.accepted() >= 1);
  push.close();
  monitor.stop();
  pull.close();
}

TEST_CASE("Secrets: url credentials with '/' are cut whole; redact() removes every configured secret") {
  auto r = parse_sink_configs(R"([[sinks]]
type = "webhook"
url = "https://bob:pa/ss?w#rd@hooks.example.com/services/T000/B000/XXXXSECRET"
format = "slack"
[[sinks]]
type = "splunk_hec"
url = "https://hec:8088/services/collector/event"
token = "s3cret-token"
)",
                              "x.toml");
  REQUIRE(r.error.empty());
  CHECK(r.sinks[0].redacted() == "webhook sink 'webhook-0' -> https://hooks.example.com/... (format slack)");
  const std::string echoed =
      "upstream said: POST /services/T000/B000/XXXXSECRET Authorization: bob:pa/ss?w#rd and "
      "{\"url\":\"services\\/T000\\/"
      "B000\\/XXXXSECRET\"}";
  const std::string clean = r.sinks[0].redact(echoed);
  CHECK(clean.find("XXXXSECRET") == std::string::npos);
  CHECK(clean.find("pa/ss") == std::string::npos);
  CHECK(clean.find("<redacted>") != std::string::npos);
  CHECK(r.sinks[1].redact("Authorization: Splunk s3cret-token") == "Authorization: Splunk <redacted>");
  CHECK(r.sinks[1].redact("nothing secret here") == "nothing secret here");
}

TEST_CASE("Secrets: a receiver that echoes the request leaks nothing into logs or dead letters", "[integration]") {
  // The receiver answers 400 quoting the request's token header and path, as some proxies do.
  HttpIngestServer receiver(
      [](const InboundRequest& r) {
        return MetricsReply{400, "text/plain", "bad request " + r.path + " " + std::string(r.header("authorization"))};
      },
      1 << 20);
  REQUIRE(receiver.start("127.0.0.1:0").empty());
  const std::string dir = (fs::temp_directory_path() / fmt::format("flowlier-echo-{}", ::getpid())).string();
  fs::remove_all(dir);
  SinkConfig config;
  config.type = SinkType::splunk_hec;
  config.id = "hec";
  config.url = fmt::format("http://127.0.0.1:{}/services/collector/event", receiver.port());
  config.token = "TOKEN-0123456789";
  config.spool_dir = dir;
  config.batch_timeout_ms = 10;
  std::vector<std::string> logs;
  std::mutex logs_mutex;
  std::string error;
  auto sink = DeliveryService::start(
      config,
      [&](const std::string& line) {
        std::lock_guard lock(logs_mutex);
        logs.push_back(line);
      },
      error);
  REQUIRE(sink);
  sink->push(flowlier::transport::test::make_event(1));
  REQUIRE(sink->flush(10s));
  CHECK(sink->counters().dead_lettered == 1);
  std::ifstream dead(dir + "/hec/dead-letter.jsonl");
  std::stringstream text;
  text << dead.rdbuf();
  CHECK(text.str().find("bad request") != std::string::npos);       // the answer is kept...
  CHECK(text.str().find("TOKEN-0123456789") == std::string::npos);  // ...without the token
  CHECK(sink->counters().last_error.find("TOKEN") == std::string::npos);
  sink.reset();
  std::lock_guard lock(logs_mutex);
  REQUIRE_FALSE(logs.empty());
  for (const auto& line : logs) CHECK(line.find("TOKEN-0123456789") == std::string::npos);
  receiver.stop();
  fs::remove_all(dir);
}
