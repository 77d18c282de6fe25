#!/usr/bin/python3
"""A PLC for tests/sys_modbus.sh: pymodbus's Modbus TCP server with known
values in its registers, every 32-bit value in every word and byte order.

usage: modbus_plc.py PORT

Holding registers (zero-based):
   0,  2,  4,  6  float32 123.456 in ABCD, CDAB, BADC, DCBA
  10, 12, 14, 16  int32 -123456 in ABCD, CDAB, BADC, DCBA
  20, 22          uint32 3000000000 in ABCD, CDAB
  30              int16 -1234
  32              int16 -1234 byte-swapped (BA)
  40              float32 NaN (ABCD)
Input register 0: uint16 65000.  Coil 0 and discrete input 0: 1.
The words are made here with struct, independently of wgu-modbus.
"""
import struct
import sys

from pymodbus.datastore import (ModbusSequentialDataBlock,
                                ModbusServerContext, ModbusSlaveContext)
from pymodbus.server import StartTcpServer


def words(fmt, value, order):
    """The two registers of value packed big-endian as ABCD, reordered."""
    a, b, c, d = struct.pack(fmt, value)
    wire = {"abcd": (a, b, c, d), "cdab": (c, d, a, b),
            "badc": (b, a, d, c), "dcba": (d, c, b, a)}[order]
    return [wire[0] << 8 | wire[1], wire[2] << 8 | wire[3]]


def main():
    port = int(sys.argv[1])
    hr = [0] * 64
    for i, order in enumerate(("abcd", "cdab", "badc", "dcba")):
        hr[2 * i:2 * i + 2] = words(">f", 123.456, order)
        hr[10 + 2 * i:12 + 2 * i] = words(">i", -123456, order)
    hr[20:22] = words(">I", 3000000000, "abcd")
    hr[22:24] = words(">I", 3000000000, "cdab")
    hr[30] = struct.unpack(">H", struct.pack(">h", -1234))[0]
    hr[32] = struct.unpack("<H", struct.pack(">h", -1234))[0]
    hr[40:42] = words(">f", float("nan"), "abcd")
    store = ModbusSlaveContext(
        hr=ModbusSequentialDataBlock(0, hr),
        ir=ModbusSequentialDataBlock(0, [65000] + [0] * 63),
        co=ModbusSequentialDataBlock(0, [1] + [0] * 63),
        di=ModbusSequentialDataBlock(0, [1] + [0] * 63),
        zero_mode=True)
    ctx = ModbusServerContext(slaves=store, single=True)
    StartTcpServer(context=ctx, address=("127.0.0.1", port),
                   allow_reuse_address=True)


main()
