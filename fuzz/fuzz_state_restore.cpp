// libFuzzer target: Engine::restore on hostile bytes. It must fail with a message
// (never crash, throw or allocate without bound) and leave the engine usable.
//
// Inputs starting with 'P' are an engine payload: the harness frames the rest as a
// valid "engine" record (tag, version, length, FNV-1a checksum), so the fuzzer gets
// past the checksum into the payload parser. Inside it, every byte run that looks
// like a nested record (baselines, episodes, trees) gets its checksum recomputed, so
// mutations reach those parsers too. Other inputs go to restore() as they are.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <string_view>

#include "core/StateIo.hpp"
#include "pipeline/Engine.hpp"

namespace {
template <class T>
void append(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

template <class T>
T read_at(const std::string& s, std::size_t at) {
  T value;
  std::memcpy(&value, s.data() + at, sizeof(T));
  return value;
}

// Rewrites the checksum of every plausible record frame (u16 tag length 1-64, a tag of
// [a-z_], u32 version, u64 length, payload, u64 checksum) in `bytes`, innermost
// first: a later frame start is never outside an earlier one that contains it.
void repair_checksums(std::string& bytes) {
  for (std::size_t i = bytes.size(); i-- > 0;) {
    if (i + 2 > bytes.size()) continue;
    const std::size_t tag_length = read_at<std::uint16_t>(bytes, i);
    if (tag_length == 0 || tag_length > 64 || i + 2 + tag_length + 12 > bytes.size()) continue;
    bool tag_ok = true;
    for (std::size_t k = 0; k < tag_length && tag_ok; ++k) {
      const char c = bytes[i + 2 + k];
      tag_ok = (c >= 'a' && c <= 'z') || c == '_';
    }
    if (!tag_ok) continue;
    const std::uint64_t length = read_at<std::uint64_t>(bytes, i + 2 + tag_length + 4);
    const std::size_t body = i + 2 + tag_length + 12;
    if (length > bytes.size() - body || bytes.size() - body - length < 8) continue;
    const std::uint64_t sum = flowlier::detectors::fnv1a64(std::string_view(bytes).substr(i, body + length - i));
    std::memcpy(bytes.data() + body + length, &sum, sizeof sum);
  }
}

std::string frame_engine_payload(std::string_view payload_bytes) {
  std::string payload(payload_bytes);
  repair_checksums(payload);
  constexpr std::string_view tag = "engine";
  std::string framed;
  append(framed, static_cast<std::uint16_t>(tag.size()));
  framed.append(tag);
  append(framed, flowlier::pipeline::Engine::kStateVersion);
  append(framed, static_cast<std::uint64_t>(payload.size()));
  framed.append(payload);
  append(framed, flowlier::detectors::fnv1a64(framed));
  return framed;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace flowlier::pipeline;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string state = !bytes.empty() && bytes[0] == 'P' ? frame_engine_payload(bytes.substr(1)) : std::string(bytes);
  Engine engine({});
  std::istringstream in(state);
  auto error = engine.restore(in);
  // Whatever restore did, the engine must still save and flush.
  std::ostringstream out;
  engine.save(out);
  engine.flush();
  volatile std::size_t keep = error.size() + out.str().size() + engine.take_events().size();
  (void)keep;
  return 0;
}
