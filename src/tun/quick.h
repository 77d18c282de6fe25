/* `wgu up`, `wgu down`, `wgu show`, `wgu strip`: wg-quick(8) for wgu.
 *
 *	wgu up   IFNAME|CONFIG	PreUp, start `wgu IFNAME`, set the config
 *				through the UAPI socket, Address, MTU, link
 *				up, DNS, routes (and the fwmark rules and
 *				nftables tables of a default route), PostUp
 *	wgu down IFNAME|CONFIG	PreDown, SaveConfig, delete the interface
 *				(the daemon stops with it), rules, DNS,
 *				nftables tables, PostDown
 *	wgu show [IFNAME]	`wg show`, or the UAPI state without wg
 *	wgu strip IFNAME|CONFIG	the config without wg-quick's own keys
 *
 * A bare name means /etc/wireguard/IFNAME.conf; a path names the file and
 * the interface is its base name without ".conf".  Each returns the exit
 * status of the command: 0, or 1 after a message on stderr. */
#ifndef WG_QUICK_H
#define WG_QUICK_H

int wg_quick_up(int argc, char **argv);
int wg_quick_down(int argc, char **argv);
int wg_quick_show(int argc, char **argv);
int wg_quick_strip(int argc, char **argv);

#endif
