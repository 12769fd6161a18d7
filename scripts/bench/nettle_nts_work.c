// Nettle's own work for one NTS request as `ntp serve` does it, in C: the floor any server using
// Nettle's AES-SIV (chronyd does) pays per request, whatever language is around it.
//
// usage: gcc -O2 scripts/bench/nettle_nts_work.c -o /tmp/nettle_nts_work -lnettle && /tmp/nettle_nts_work
//
// Per request: open a cookie under the server's key (4-byte key id as associated data, 68 bytes of
// keys inside), set the client's C2S key and check the authenticator (188 bytes of request as
// associated data, no text), seal one new cookie, set the S2C key and seal the reply (84 bytes of
// reply as associated data, a 104-byte cookie field inside). Sizes as in the core bench
// (scripts/bench/nts_request_bench.ts); a new client key pair every request, as with 64 clients.
#include <nettle/siv-cmac.h>
#include <stdio.h>
#include <time.h>

int main(void) {
  struct siv_cmac_aes128_ctx cookie_ctx, session_ctx;
  uint8_t server_key[32] = {9}, keys[64][32], nonce[16] = {1}, ad[256] = {2}, text[128] = {3};
  uint8_t opened[128], out[256], cookie[16 + 68];
  for (int i = 0; i < 64; i++)
    for (int j = 0; j < 32; j++) keys[i][j] = (uint8_t)(i * 7 + j);
  siv_cmac_aes128_set_key(&cookie_ctx, server_key);
  siv_cmac_aes128_encrypt_message(&cookie_ctx, 16, nonce, 4, ad, sizeof cookie, cookie, text);
  const int requests = 1000000;
  int valid = 0;
  for (int round = 0; round < 3; round++) {
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < requests; i++) {
      valid += siv_cmac_aes128_decrypt_message(&cookie_ctx, 16, nonce, 4, ad, 68, opened, cookie);
      siv_cmac_aes128_set_key(&session_ctx, keys[i & 63]);
      // The tag does not match here; Nettle does the same work either way.
      siv_cmac_aes128_decrypt_message(&session_ctx, 16, nonce, 188, ad, 0, opened, out);
      siv_cmac_aes128_encrypt_message(&cookie_ctx, 16, nonce, 4, ad, 16 + 68, out, text);
      siv_cmac_aes128_set_key(&session_ctx, keys[(i + 1) & 63]);
      siv_cmac_aes128_encrypt_message(&session_ctx, 16, nonce, 84, ad, 16 + 104, out, text);
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double ns = (double)(end.tv_sec - start.tv_sec) * 1e9 + (double)(end.tv_nsec - start.tv_nsec);
    printf("Nettle's work for one NTS request: %.2f us (%d requests)\n", ns / requests / 1000.0,
           requests);
  }
  return valid == 3 * requests ? 0 : 1;
}
