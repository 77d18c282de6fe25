/* The `wgu` subcommands, one file each, as wireguard-tools' src/ has them.
 *
 * Each takes the subcommand's own argument vector (argv[0] is the
 * subcommand's name: main calls genkey_main(argc - 1, argv + 1)) and
 * returns the process exit status: 0, or 1 after a message on stderr.
 *
 * up, down and strip take IFNAME or CONFIG: a bare name means
 * /etc/wireguard/IFNAME.conf; a path names the file and the interface is
 * its base name without ".conf" (target.h). */
#ifndef WG_SUBCOMMANDS_H
#define WG_SUBCOMMANDS_H

/* keys.c: byte-for-byte the output of `wg genkey`, `wg genpsk` and
 * `wg pubkey` (wireguard-tools genkey.c and pubkey.c), so scripts written
 * for wg work unchanged.  They read stdin and write stdout with read(2)/
 * write(2), so no copy of a key is left in a stdio buffer, and they never
 * write a key to stderr. */

/* A new private key: 32 random bytes, X25519-clamped, base64, newline. */
int genkey_main(int argc, char **argv);

/* A new preshared key: 32 random bytes, unclamped, base64, newline. */
int genpsk_main(int argc, char **argv);

/* Reads a base64 private key from stdin (trailing whitespace and NULs are
 * ignored, as wg does) and writes its public key, base64, newline. */
int pubkey_main(int argc, char **argv);

/* up.c: PreUp, start `wgu IFNAME`, set the config through the UAPI
 * socket, Address, MTU, link up, DNS, routes (and the fwmark rules and
 * nftables tables of a default route), PostUp; on a failure, undo. */
int up_main(int argc, char **argv);

/* down.c: PreDown, SaveConfig, delete the interface (the daemon stops
 * with it), rules, DNS, nftables tables, PostDown. */
int down_main(int argc, char **argv);

/* show.c: `wg show [IFNAME]`, or the UAPI state without wg. */
int show_main(int argc, char **argv);

/* strip.c: the config without wg-quick's own keys. */
int strip_main(int argc, char **argv);

/* stats.c: the daemon's drop counters, as its "stats=1" names them. */
int stats_main(int argc, char **argv);

/* main.c: prints wgu's usage on stderr; returns the exit status 1. */
int wg_usage_error(void);

#endif
