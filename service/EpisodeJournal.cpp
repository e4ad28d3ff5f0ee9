#include "service/EpisodeJournal.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "core/StateIo.hpp"

namespace flowlier::service {

namespace {
constexpr std::uint32_t kMagic = 0x314a4c46;  // "FLJ1" little-endian
constexpr std::size_t kHeader = 4 + 4 + 8;
constexpr std::uint32_t kMaxPayload = 256u << 20;

std::string errno_text(const char* what, const std::string& path) {
  return fmt::format("cannot {} {}: {}", what, path, std::strerror(errno));
}
}  // namespace

std::string EpisodeJournal::read(const std::string& path, std::vector<Entry>& out, std::uint64_t& cut_bytes) {
  cut_bytes = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};  // no journal yet
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t offset = 0;
  while (offset + kHeader <= bytes.size()) {
    std::uint32_t magic = 0, length = 0;
    std::uint64_t checksum = 0;
    std::memcpy(&magic, bytes.data() + offset, 4);
    std::memcpy(&length, bytes.data() + offset + 4, 4);
    std::memcpy(&checksum, bytes.data() + offset + 8, 8);
    if (magic != kMagic || length > kMaxPayload || offset + kHeader + length > bytes.size()) break;
    const std::string_view payload(bytes.data() + offset + kHeader, length);
    if (detectors::fnv1a64(payload) != checksum) break;
    detectors::StateReader r(payload);
    Entry entry;
    std::uint32_t count = 0;
    r.get(entry.close_point);
    r.get_string(entry.episode_changes, kMaxPayload);
    r.get(count);
    for (std::uint32_t i = 0; i < count && r.ok(); ++i) r.get_string(entry.events.emplace_back(), kMaxPayload);
    if (!r.finish().empty()) break;
    out.push_back(std::move(entry));
    offset += kHeader + length;
  }
  cut_bytes = bytes.size() - offset;
  return {};
}

EpisodeJournal::~EpisodeJournal() {
  if (fd_ >= 0) ::close(fd_);
}

std::string EpisodeJournal::open() {
  std::vector<Entry> entries;
  std::uint64_t cut = 0;
  if (auto error = read(path_, entries, cut); !error.empty()) return error;
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return errno_text("open", path_);
  const off_t end = ::lseek(fd_, 0, SEEK_END);
  if (end < 0) return errno_text("seek in", path_);
  size_ = static_cast<std::uint64_t>(end) - cut;
  if (cut > 0 && ::ftruncate(fd_, static_cast<off_t>(size_)) != 0) return errno_text("cut the torn tail of", path_);
  if (::lseek(fd_, static_cast<off_t>(size_), SEEK_SET) < 0) return errno_text("seek in", path_);
  return {};
}

std::string EpisodeJournal::append(const Entry& entry) {
  if (fd_ < 0) return fmt::format("{} is not open", path_);
  detectors::StateWriter w;
  w.put(entry.close_point);
  w.put_string(entry.episode_changes);
  w.put(static_cast<std::uint32_t>(entry.events.size()));
  for (const auto& e : entry.events) w.put_string(e);
  const std::string payload = w.take();
  std::string record(kHeader, '\0');
  const std::uint32_t length = static_cast<std::uint32_t>(payload.size());
  const std::uint64_t checksum = detectors::fnv1a64(payload);
  std::memcpy(record.data(), &kMagic, 4);
  std::memcpy(record.data() + 4, &length, 4);
  std::memcpy(record.data() + 8, &checksum, 8);
  record += payload;
  std::size_t written = 0;
  while (written < record.size()) {
    const ssize_t n = ::write(fd_, record.data() + written, record.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // A partial record would hide every later one: cut it.
      const int saved = errno;
      if (::ftruncate(fd_, static_cast<off_t>(size_)) == 0) ::lseek(fd_, static_cast<off_t>(size_), SEEK_SET);
      errno = saved;
      return errno_text("append to", path_);
    }
    written += static_cast<std::size_t>(n);
  }
  size_ += record.size();
  if (::fdatasync(fd_) != 0) return errno_text("sync", path_);
  return {};
}

std::string EpisodeJournal::clear() {
  if (fd_ < 0 || size_ == 0) return {};
  if (::ftruncate(fd_, 0) != 0 || ::lseek(fd_, 0, SEEK_SET) < 0) return errno_text("empty", path_);
  size_ = 0;
  if (::fdatasync(fd_) != 0) return errno_text("sync", path_);
  return {};
}

}  // namespace flowlier::service
