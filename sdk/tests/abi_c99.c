/* abi.h is the plugin boundary in C: a plugin written in C, or in any language that reads C
 * headers, includes it as it is. This file is compiled as strict C99 (sdk_abi_h_is_c99). */
#include "meter/sdk/abi.h"

/* Every type a C plugin needs is usable from C. */
static meter_plugin_descriptor descriptor;
static meter_host_api host;

int main(void) {
  meter_obis id = {1, 0, 1, 8, 0, 255};
  (void)descriptor;
  (void)host;
  return id.a == 1 ? 0 : 1;
}
