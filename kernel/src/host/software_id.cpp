// SHA-256, Ed25519 and the combined software identification, on libsodium.
#include "meter/kernel/software_id.h"

#include <cstring>

#include <elf.h>

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

namespace meter::kernel {
namespace {

struct SodiumInit {
  SodiumInit() {
    if (sodium_init() < 0) std::abort();  // no randomness: no keys may be made, stop at once
  }
};
void ensure_sodium() { static const SodiumInit kInit; }

}  // namespace

std::string to_hex(const std::uint8_t* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0x0F];
  }
  return out;
}

template <std::size_t N>
Result<std::array<std::uint8_t, N>> from_hex(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.size() != N * 2) {
    return fail(fmt::format("expected {} hex digits, got {}", N * 2, text.size()));
  }
  std::array<std::uint8_t, N> out{};
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < N; ++i) {
    const int hi = digit(text[2 * i]);
    const int lo = digit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return fail("not a hex digit");
    out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return out;
}
template Result<std::array<std::uint8_t, 32>> from_hex<32>(std::string_view);
template Result<std::array<std::uint8_t, 64>> from_hex<64>(std::string_view);

Result<std::vector<std::uint8_t>> read_binary(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(fmt::format("cannot read {}", path.string()));
  std::vector<std::uint8_t> out;
  char chunk[65536];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    out.insert(out.end(), chunk, chunk + in.gcount());
  }
  if (in.bad()) return fail(fmt::format("cannot read {}", path.string()));
  return out;
}

Sha256 sha256(const std::uint8_t* data, std::size_t size) {
  ensure_sodium();
  Sha256 out{};
  crypto_hash_sha256(out.data(), data, size);
  return out;
}

Result<Sha256> sha256_file(const std::filesystem::path& path) {
  auto bytes = read_binary(path);
  if (!bytes) return bytes.error();
  return sha256(bytes->data(), bytes->size());
}

namespace {

// A non-ELF file (a plugin for another platform, a test file): every byte, streamed.
Result<PluginScan> scan_whole_file(std::ifstream& in, const std::filesystem::path& path,
                                   std::string_view manifest) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  PluginScan scan;
  // The manifest is searched in a window that keeps the tail of the previous chunk, so an
  // occurrence across a chunk boundary is found too.
  constexpr std::size_t kChunk = 1 << 16;
  std::string window;
  std::vector<char> chunk(kChunk);
  in.clear();
  in.seekg(0);
  while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0) {
    const auto n = static_cast<std::size_t>(in.gcount());
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(chunk.data()), n);
    if (!scan.manifest_embedded && !manifest.empty()) {
      window.append(chunk.data(), n);
      scan.manifest_embedded = window.find(manifest) != std::string::npos;
      if (window.size() >= manifest.size()) window.erase(0, window.size() - (manifest.size() - 1));
    }
  }
  if (in.bad()) return fail(fmt::format("cannot read {}", path.string()));
  crypto_hash_sha256_final(&state, scan.sha256.data());
  return scan;
}

}  // namespace

Result<PluginScan> scan_plugin(const std::filesystem::path& plugin, std::string_view manifest) {
  std::ifstream in(plugin, std::ios::binary);
  if (!in) return fail(fmt::format("cannot read {}", plugin.string()));
  ensure_sodium();
  Elf64_Ehdr header{};
  in.read(reinterpret_cast<char*>(&header), sizeof header);
  const bool elf64 = in && std::memcmp(header.e_ident, ELFMAG, SELFMAG) == 0 &&
                     header.e_ident[EI_CLASS] == ELFCLASS64 &&
                     header.e_phentsize == sizeof(Elf64_Phdr);
  if (!elf64) return scan_whole_file(in, plugin, manifest);

  // An ELF is identified by what the loader maps: its program headers and PT_LOAD segments,
  // and its size (so bytes appended after signing are caught). Debug sections and symbol
  // tables never run and are left out; they are most of a RelWithDebInfo file.
  std::vector<Elf64_Phdr> segments(header.e_phnum);
  in.seekg(static_cast<std::streamoff>(header.e_phoff));
  in.read(reinterpret_cast<char*>(segments.data()),
          static_cast<std::streamsize>(segments.size() * sizeof(Elf64_Phdr)));
  if (!in) return fail(fmt::format("{}: unreadable program headers", plugin.string()));
  std::error_code ec;
  const std::uint64_t size = std::filesystem::file_size(plugin, ec);
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(&size), sizeof size);
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(segments.data()),
                            segments.size() * sizeof(Elf64_Phdr));
  PluginScan scan;
  std::string bytes;
  for (const auto& seg : segments) {
    if (seg.p_type != PT_LOAD) continue;
    bytes.resize(seg.p_filesz);
    in.seekg(static_cast<std::streamoff>(seg.p_offset));
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!in) return fail(fmt::format("{}: a loadable segment is cut short", plugin.string()));
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(bytes.data()),
                              bytes.size());
    if (!manifest.empty() && !scan.manifest_embedded) {
      scan.manifest_embedded = bytes.find(manifest) != std::string::npos;
    }
  }
  crypto_hash_sha256_final(&state, scan.sha256.data());
  return scan;
}

Result<Sha256> sha256_loaded_image(const std::filesystem::path& path) {
  auto scan = scan_plugin(path, {});
  if (!scan) return scan.error();
  return scan->sha256;
}

namespace {
std::vector<std::uint8_t> signed_message(const Sha256& digest) {
  static constexpr std::string_view kDomain = "meter-plugin-signature-v1";
  std::vector<std::uint8_t> message(kDomain.begin(), kDomain.end());
  message.insert(message.end(), digest.begin(), digest.end());
  return message;
}
}  // namespace

Signature sign_plugin(const Sha256& plugin_sha256, const SecretKey& key) {
  return sign(signed_message(plugin_sha256), key);
}

bool verify_plugin(const Sha256& plugin_sha256, const Signature& signature, const PublicKey& key) {
  return verify(signed_message(plugin_sha256), signature, key);
}

KeyPair make_key_pair() {
  ensure_sodium();
  KeyPair pair;
  crypto_sign_keypair(pair.public_key.data(), pair.secret_key.data());
  return pair;
}

Signature sign(const std::vector<std::uint8_t>& message, const SecretKey& key) {
  ensure_sodium();
  Signature out{};
  crypto_sign_detached(out.data(), nullptr, message.data(), message.size(), key.data());
  return out;
}

bool verify(const std::vector<std::uint8_t>& message, const Signature& signature,
            const PublicKey& key) {
  ensure_sodium();
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     key.data()) == 0;
}

std::filesystem::path signature_path(const std::filesystem::path& plugin) {
  auto p = plugin;
  p.replace_extension(".sig");
  return p;
}

std::string SoftwareIdentity::display_text() const {
  return "SW " + combined_hex().substr(0, 8);
}

SoftwareIdentity identify(IdentifiedComponent kernel, std::vector<IdentifiedComponent> plugins) {
  std::sort(plugins.begin(), plugins.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  SoftwareIdentity id;
  id.components.push_back(std::move(kernel));
  for (auto& p : plugins) id.components.push_back(std::move(p));
  std::vector<std::uint8_t> all;
  for (const auto& c : id.components) {
    all.insert(all.end(), c.name.begin(), c.name.end());
    all.push_back(0);
    all.insert(all.end(), c.version.begin(), c.version.end());
    all.push_back(0);
    all.insert(all.end(), c.sha256.begin(), c.sha256.end());
  }
  id.combined = sha256(all.data(), all.size());
  return id;
}

}  // namespace meter::kernel
