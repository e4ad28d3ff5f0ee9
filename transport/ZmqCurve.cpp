#include "transport/ZmqCurve.hpp"

#include <fstream>
#include <vector>

#include <fmt/format.h>
#include <zmq_addon.hpp>

namespace flowlier::transport {

namespace {
constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}
}  // namespace

CurveKeyPair generate_curve_keypair() {
  char public_key[41] = {};
  char secret_key[41] = {};
  if (zmq_curve_keypair(public_key, secret_key) != 0) throw zmq::error_t();
  return {public_key, secret_key};
}

bool is_z85_key(std::string_view text) {
  static constexpr std::string_view alphabet =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  if (text.size() != 40) return false;
  for (char c : text) {
    if (alphabet.find(c) == std::string_view::npos) return false;
  }
  return true;
}

std::optional<std::string> curve_public_key(const std::string& secret_key) {
  if (!is_z85_key(secret_key)) return std::nullopt;
  char public_key[41] = {};
  if (zmq_curve_public(public_key, secret_key.c_str()) != 0) return std::nullopt;
  return std::string(public_key);
}

std::optional<std::set<std::string>> read_keys_file(const std::string& path, std::string& error, KeyKind expected) {
  std::ifstream in(path);
  if (!in) {
    error = fmt::format("cannot read key file {}", path);
    return std::nullopt;
  }
  std::set<std::string> keys;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const auto text = trim(line);
    if (!text.empty() && text.front() == '#') {
      const bool says_secret = text.find("CURVE secret key") != std::string_view::npos;
      const bool says_public = text.find("CURVE public key") != std::string_view::npos;
      if ((expected == KeyKind::secret && says_public) || (expected == KeyKind::public_key && says_secret)) {
        error = fmt::format("{}:{}: this is a CURVE {} key file, a {} key is needed here", path, number,
                            says_secret ? "secret" : "public", expected == KeyKind::secret ? "secret" : "public");
        return std::nullopt;
      }
      continue;
    }
    if (text.empty()) continue;
    if (!is_z85_key(text)) {
      error = fmt::format("{}:{}: not a 40-character Z85 key", path, number);
      return std::nullopt;
    }
    keys.emplace(text);
  }
  return keys;
}

std::optional<std::string> read_key_file(const std::string& path, std::string& error, KeyKind expected) {
  auto keys = read_keys_file(path, error, expected);
  if (!keys) return std::nullopt;
  if (keys->size() != 1) {
    error = fmt::format("{}: expected exactly one key", path);
    return std::nullopt;
  }
  return *keys->begin();
}

void make_curve_server(zmq::socket_t& socket, const std::string& secret_key) {
  socket.set(zmq::sockopt::curve_server, 1);
  socket.set(zmq::sockopt::curve_secretkey, secret_key);
  socket.set(zmq::sockopt::zap_domain, "flowlier");
}

void make_curve_client(zmq::socket_t& socket, const CurveKeyPair& own, const std::string& server_public_key) {
  socket.set(zmq::sockopt::curve_serverkey, server_public_key);
  socket.set(zmq::sockopt::curve_publickey, own.public_key);
  socket.set(zmq::sockopt::curve_secretkey, own.secret_key);
}

ZapHandler::ZapHandler(zmq::context_t& context, std::set<std::string> allowed_public_keys)
    : socket_(context, zmq::socket_type::rep), allowed_(std::move(allowed_public_keys)) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind(kZapEndpoint);
  thread_ = std::thread([this] { serve(); });
}

ZapHandler::~ZapHandler() { stop(); }

void ZapHandler::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  socket_.close();
}

void ZapHandler::serve() {
  while (!stopping_) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, std::chrono::milliseconds(100));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      std::vector<zmq::message_t> request;
      if (!zmq::recv_multipart(socket_, std::back_inserter(request))) continue;
      // RFC 27: version, request id, domain, address, identity, mechanism, credentials...
      bool ok = false;
      std::string request_id;
      if (request.size() >= 6) {
        request_id = request[1].to_string();
        if (request[0].to_string_view() == "1.0" && request[5].to_string_view() == "CURVE" && request.size() >= 7 &&
            request[6].size() == 32) {
          char z85[41] = {};
          zmq_z85_encode(z85, static_cast<const std::uint8_t*>(request[6].data()), 32);
          ok = allowed_.count(z85) > 0;
        }
      }
      (ok ? admitted_ : refused_).fetch_add(1);
      std::vector<zmq::message_t> reply;
      reply.emplace_back(std::string_view("1.0"));
      reply.emplace_back(request_id);
      reply.emplace_back(std::string_view(ok ? "200" : "400"));
      reply.emplace_back(std::string_view(ok ? "OK" : "client key not allowed"));
      reply.emplace_back(std::string_view(""));  // user id
      reply.emplace_back(std::string_view(""));  // metadata
      zmq::send_multipart(socket_, reply);
    } catch (const zmq::error_t&) {
      return;  // context terminated
    }
  }
}

}  // namespace flowlier::transport
