/* `wgu genkey`, `wgu genpsk` and `wgu pubkey`: byte-for-byte the output of
 * `wg genkey`, `wg genpsk` and `wg pubkey` (wireguard-tools genkey.c and
 * pubkey.c), so scripts written for wg work unchanged.
 *
 * Each takes the subcommand's own argument vector (argv[0] is the
 * subcommand name; main calls wg_cmd_genkey(argc - 1, argv + 1)) and returns
 * the process exit status: 0, or 1 after one line on stderr.  They read
 * stdin and write stdout with read(2)/write(2), so no copy of a key is left
 * in a stdio buffer, and they never write a key to stderr. */
#ifndef WG_CMD_KEYS_H
#define WG_CMD_KEYS_H

/* A new private key: 32 random bytes, X25519-clamped, base64, newline. */
int wg_cmd_genkey(int argc, char **argv);

/* A new preshared key: 32 random bytes, unclamped, base64, newline. */
int wg_cmd_genpsk(int argc, char **argv);

/* Reads a base64 private key from stdin (trailing whitespace and NULs are
 * ignored, as wg does) and writes its public key, base64, newline. */
int wg_cmd_pubkey(int argc, char **argv);

#endif
