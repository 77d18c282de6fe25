#!/usr/bin/python3
"""A hostile Modbus TCP server for tests/sys_modbus.sh.

usage: modbus_hostile.py PORT

Answers read-holding-registers requests (one register) in turn with
  the right answer, value 4242, once, then three times each:
  a wrong function code (4 for 3), value 6666
  a short frame (byte count 1, one byte)
  an exception (illegal data address)
  a wrong transaction id, value 6666
  a wrong unit id, value 6666
  and once a response that never ends (a header announcing 100 bytes, 3
  sent).  Each bad kind three times in a row: the edge logs it once.
A wrong value (6666) in the hub's log means a bad answer was taken for a
good one.  Counts of each answer sent go to stdout at exit.
"""
import signal
import socket
import struct
import sys
import threading

KINDS = ("good", "function", "short", "exception", "tid", "unit", "endless")
MODES = ["good"] + [m for m in KINDS[1:-1] for _ in range(3)] + ["endless"]
sent = {m: 0 for m in KINDS}
turn = [0]
lock = threading.Lock()


def answer(conn, req):
    tid, _, _, unit, fc = struct.unpack(">HHHBB", req[:8])
    with lock:
        mode = MODES[turn[0] % len(MODES)]
        turn[0] += 1
        sent[mode] += 1
    pdu_value = struct.pack(">BBH", fc, 2, 4242)
    bad_value = struct.pack(">BBH", fc, 2, 6666)
    if mode == "good":
        pdu = pdu_value
    elif mode == "function":
        pdu = struct.pack(">BBH", 4 if fc != 4 else 3, 2, 6666)
    elif mode == "short":
        pdu = struct.pack(">BBB", fc, 1, 0x42)
    elif mode == "exception":
        pdu = struct.pack(">BB", fc | 0x80, 2)
    elif mode == "tid":
        tid = (tid + 7) & 0xFFFF
        pdu = bad_value
    elif mode == "unit":
        unit = (unit + 1) & 0xFF
        pdu = bad_value
    else:
        conn.sendall(struct.pack(">HHHB", tid, 0, 100, unit) + b"\x03\x02")
        return False
    conn.sendall(struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu)
    return True


def serve(conn):
    with conn:
        while True:
            req = b""
            while len(req) < 12:
                chunk = conn.recv(12 - len(req))
                if not chunk:
                    return
                req += chunk
            if not answer(conn, req):
                # Never ends: hold the connection until the client goes.
                while conn.recv(256):
                    pass
                return


def main():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(sys.argv[1])))
    srv.listen(16)

    def stop(*_):
        print(" ".join(f"{m} {n}" for m, n in sent.items()), flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
