// SPDX-License-Identifier: MIT
using System;
using System.Runtime.InteropServices;
using System.Text;

namespace KMTalk
{
    /// <summary>UTF-8 strings across the C boundary, the same on every platform (the
    /// runtime's own string marshalling is ANSI on Windows under .NET Framework and Mono).</summary>
    internal static class Utf8
    {
        /// <summary>NUL-terminated UTF-8 bytes of <paramref name="text"/>; null for null.
        /// A string holding a NUL character is refused (C would cut it there).</summary>
        internal static byte[] Encode(string text, string parameter)
        {
            if (text == null) return null;
            if (text.IndexOf('\0') >= 0)
                throw new ArgumentException("contains a NUL character", parameter);
            int length = Encoding.UTF8.GetByteCount(text);
            byte[] bytes = new byte[length + 1];
            Encoding.UTF8.GetBytes(text, 0, text.Length, bytes, 0);
            return bytes;
        }

        /// <summary>The string at a NUL-terminated UTF-8 pointer; null for NULL.</summary>
        internal static string Decode(IntPtr pointer)
        {
            if (pointer == IntPtr.Zero) return null;
            int length = 0;
            while (Marshal.ReadByte(pointer, length) != 0) length++;
            if (length == 0) return "";
            byte[] bytes = new byte[length];
            Marshal.Copy(pointer, bytes, 0, length);
            return Encoding.UTF8.GetString(bytes);
        }

        /// <summary>Copies NUL-terminated UTF-8 bytes to unmanaged memory (for string fields of
        /// parameter structs); IntPtr.Zero for null. Free with Marshal.FreeHGlobal.</summary>
        internal static IntPtr Alloc(string text, string parameter)
        {
            byte[] bytes = Encode(text, parameter);
            if (bytes == null) return IntPtr.Zero;
            IntPtr pointer = Marshal.AllocHGlobal(bytes.Length);
            Marshal.Copy(bytes, 0, pointer, bytes.Length);
            return pointer;
        }
    }
}
