// meter-sign: the OEM's tool for legally relevant plugins. Makes an Ed25519 key pair, signs a
// plugin (writing <plugin>.sig beside it) and verifies a signature, with libsodium.
//   meter-sign keygen --public oem.pub --secret oem.key
//   meter-sign sign --secret oem.key build/plugins/tou.so
//   meter-sign verify --public oem.pub build/plugins/tou.so
#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <fmt/std.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "meter/kernel/software_id.h"

namespace {

namespace fs = std::filesystem;
using namespace meter::kernel;

bool write_text(const fs::path& path, const std::string& text, fs::perms perms) {
  std::ofstream out(path, std::ios::trunc);
  out << text << '\n';
  out.close();
  if (!out) return false;
  std::error_code ec;
  fs::permissions(path, perms, ec);
  return !ec;
}

template <std::size_t N>
Result<std::array<std::uint8_t, N>> read_key(const fs::path& path) {
  auto bytes = read_binary(path);
  if (!bytes) return bytes.error();
  return from_hex<N>(std::string(bytes->begin(), bytes->end()));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Makes OEM keys and signs legally relevant meter plugins (Ed25519)."};
  app.require_subcommand(1);
  fs::path public_path, secret_path, plugin;

  auto* keygen = app.add_subcommand("keygen", "make an OEM key pair (hex text files)");
  keygen->add_option("--public", public_path, "public key file to write")->required();
  keygen->add_option("--secret", secret_path, "secret key file to write (mode 0600)")->required();

  auto* sign_cmd = app.add_subcommand("sign", "sign a plugin: writes <plugin>.sig beside it");
  sign_cmd->add_option("--secret", secret_path, "the OEM's secret key")->required();
  sign_cmd->add_option("plugin", plugin, "the plugin's shared library")->required();

  auto* verify_cmd = app.add_subcommand("verify", "check a plugin's signature");
  verify_cmd->add_option("--public", public_path, "the OEM's public key")->required();
  verify_cmd->add_option("plugin", plugin, "the plugin's shared library")->required();
  CLI11_PARSE(app, argc, argv);

  if (keygen->parsed()) {
    const KeyPair pair = make_key_pair();
    if (!write_text(secret_path, to_hex(pair.secret_key), fs::perms::owner_read | fs::perms::owner_write) ||
        !write_text(public_path, to_hex(pair.public_key),
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                        fs::perms::others_read)) {
      fmt::print(stderr, "meter-sign: cannot write the key files\n");
      return 1;
    }
    fmt::print("public key {}: {}\n", public_path, to_hex(pair.public_key));
    return 0;
  }
  auto digest = sha256_loaded_image(plugin);
  if (!digest) {
    fmt::print(stderr, "meter-sign: {}\n", digest.error().message);
    return 1;
  }
  if (sign_cmd->parsed()) {
    auto key = read_key<64>(secret_path);
    if (!key) {
      fmt::print(stderr, "meter-sign: {}: {}\n", secret_path, key.error().message);
      return 1;
    }
    const fs::path sig = signature_path(plugin);
    if (!write_text(sig, to_hex(sign_plugin(*digest, *key)),
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                        fs::perms::others_read)) {
      fmt::print(stderr, "meter-sign: cannot write {}\n", sig);
      return 1;
    }
    fmt::print("signed {} (sha256 {}) -> {}\n", plugin, to_hex(*digest), sig);
    return 0;
  }
  auto key = read_key<32>(public_path);
  if (!key) {
    fmt::print(stderr, "meter-sign: {}: {}\n", public_path, key.error().message);
    return 1;
  }
  auto sig_bytes = read_binary(signature_path(plugin));
  if (!sig_bytes) {
    fmt::print("{}: not signed\n", plugin);
    return 1;
  }
  auto sig = from_hex<64>(std::string(sig_bytes->begin(), sig_bytes->end()));
  const bool ok = sig && verify_plugin(*digest, *sig, *key);
  fmt::print("{}: {}\n", plugin, ok ? "signature valid" : "signature INVALID");
  return ok ? 0 : 1;
}
