// prepaid-token: what a vending station does for the prepaid plugin's meters. It makes a meter
// key, makes credit tokens for a meter key, and reads a token back (as the meter would judge its
// MAC and fields). The key is the meter's `meter_key` setting: 64 hexadecimal digits.
//
//   prepaid-token keygen
//   prepaid-token make --key HEX --amount 20.00 --issued 2026-01-10T08:30:00Z
//   prepaid-token check --key HEX "1234 5678 9012 3456 7890"
#include <CLI/CLI.hpp>
#include <date/date.h>
#include <fmt/format.h>
#include <sodium.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "money.h"
#include "token.h"

namespace {

using namespace meter::plugins::prepaid;

std::optional<MeterKey> read_key(const std::string& hex, const std::string& file) {
  std::string text = hex;
  if (!file.empty()) {
    std::ifstream in(file);
    std::stringstream all;
    all << in.rdbuf();
    text = all.str();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
      text.pop_back();
    }
  }
  return parse_meter_key(text);
}

std::optional<std::int64_t> parse_utc(const std::string& text) {
  std::istringstream in(text);
  date::sys_seconds t;
  in >> date::parse("%Y-%m-%dT%H:%M:%SZ", t);
  if (in.fail()) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string utc_of_id(std::uint32_t id) {
  const date::sys_time<std::chrono::milliseconds> t{
      std::chrono::milliseconds{token_id_time_ms(id)}};
  return date::format("%Y-%m-%dT%H:%MZ", date::floor<std::chrono::minutes>(t));
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) {
    std::cerr << "prepaid-token: libsodium cannot be initialised\n";
    return 1;
  }
  CLI::App app{"prepaid-token: meter keys and credit tokens for the prepaid plugin"};
  app.require_subcommand(1);

  auto* keygen = app.add_subcommand("keygen", "print a new random meter key (64 hex digits)");

  std::string key_hex, key_file, amount_text, issued_text;
  int decimals = 2;
  long long id_option = -1;
  auto* make = app.add_subcommand("make", "make a credit token for a meter key");
  make->add_option("--key", key_hex, "the meter key, 64 hex digits");
  make->add_option("--key-file", key_file, "a file holding the meter key")
      ->check(CLI::ExistingFile);
  make->add_option("--amount", amount_text, "credit in major units, e.g. 20.00")->required();
  make->add_option("--decimals", decimals, "decimals of the currency's minor unit")
      ->check(CLI::Range(0, 3));
  make->add_option("--issued", issued_text,
                   "issue time, UTC, YYYY-MM-DDTHH:MM:SSZ (default: now); one token per meter "
                   "per minute");
  make->add_option("--id", id_option, "the token id itself (minutes since 2020-01-01T00:00Z)");

  std::string token_text;
  auto* check = app.add_subcommand("check", "read a token back with a meter key");
  check->add_option("--key", key_hex, "the meter key, 64 hex digits");
  check->add_option("--key-file", key_file, "a file holding the meter key")
      ->check(CLI::ExistingFile);
  check->add_option("--decimals", decimals, "decimals of the currency's minor unit")
      ->check(CLI::Range(0, 3));
  check->add_option("token", token_text, "the 20 digits")->required();

  CLI11_PARSE(app, argc, argv);

  if (keygen->parsed()) {
    MeterKey key{};
    randombytes_buf(key.data(), key.size());
    std::array<char, 2 * kMeterKeyBytes + 1> hex{};
    sodium_bin2hex(hex.data(), hex.size(), key.data(), key.size());
    std::cout << hex.data() << '\n';
    return 0;
  }
  const auto key = read_key(key_hex, key_file);
  if (!key) {
    std::cerr << "prepaid-token: the meter key must be 64 hexadecimal digits "
                 "(--key or --key-file)\n";
    return 2;
  }
  if (make->parsed()) {
    const auto minor = parse_minor(amount_text, decimals, kMaxTokenAmount);
    if (!minor || *minor == 0) {
      std::cerr << fmt::format("prepaid-token: --amount {}: a positive amount with at most {} "
                               "decimals, at most {}\n",
                               amount_text, decimals,
                               minor_text(kMaxTokenAmount, decimals));
      return 2;
    }
    TokenFields f;
    f.amount_minor = static_cast<std::uint32_t>(*minor);
    if (id_option >= 0) {
      if (id_option > kMaxTokenId) {
        std::cerr << "prepaid-token: --id is at most " << kMaxTokenId << '\n';
        return 2;
      }
      f.id = static_cast<std::uint32_t>(id_option);
    } else {
      const auto issued = issued_text.empty()
                              ? std::optional<std::int64_t>(
                                    std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count())
                              : parse_utc(issued_text);
      const auto id = issued ? token_id_at(*issued) : std::nullopt;
      if (!id) {
        std::cerr << "prepaid-token: --issued " << issued_text
                  << ": a UTC time YYYY-MM-DDTHH:MM:SSZ from 2020 to 2051\n";
        return 2;
      }
      f.id = *id;
    }
    const auto token = make_token(*key, f);
    if (!token) {
      std::cerr << "prepaid-token: the token's fields are out of range\n";
      return 2;
    }
    std::cout << group_digits(*token) << '\n';
    std::cerr << fmt::format("token id {} (issued {}), amount {}\n", f.id, utc_of_id(f.id),
                             minor_text(f.amount_minor, decimals));
    return 0;
  }
  const TokenDecode d = decode_token(*key, token_text);
  if (!d.fields) {
    const char* why = d.defect == TokenDefect::bad_mac         ? "its MAC is wrong for this key"
                      : d.defect == TokenDefect::unknown_class ? "its class is reserved"
                      : d.defect == TokenDefect::zero_amount   ? "it carries no amount"
                                                               : "it is not 20 digits of a token";
    std::cout << "refused: " << why << '\n';
    return 1;
  }
  std::cout << fmt::format("credit token: id {} (issued {}), amount {}\n", d.fields->id,
                           utc_of_id(d.fields->id),
                           minor_text(d.fields->amount_minor, decimals));
  return 0;
}
