#!/usr/bin/env python3
"""Writes N customer rows in the create-customers CSV shape (deterministic, no randomness)."""
import sys

def main() -> None:
    n = int(sys.argv[1])
    out = sys.stdout
    out.write("name,address,email:1,email:2,email:3,phone:1,phone:2,phone:3,"
              "customAttribute:attr1,customAttribute:attr2,customAttribute:attr3\n")
    for i in range(1, n + 1):
        alt = f"alt{i}@example.com" if i % 3 == 0 else ""
        phone2 = f"650 555 {i % 10000:04d}" if i % 2 == 0 else ""
        out.write(f"Customer {i},\"{i} Market St, CA, 94105\",c{i}@example.com,{alt},,"
                  f"650 123 {i % 10000:04d},{phone2},,tier{i % 5},,note {i % 7}\n")

if __name__ == "__main__":
    main()
