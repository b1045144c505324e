// SPDX-License-Identifier: MIT
using System;
using System.Runtime.InteropServices;

namespace KMTalk
{
    /// <summary>Receives the library's log messages (see <see cref="Library.SetLogCallback"/>).</summary>
    /// <param name="level">The message's severity.</param>
    /// <param name="message">The message text.</param>
    public delegate void LogCallback(LogLevel level, string message);

    /// <summary>
    /// Reports how far a long call has come (<c>kmt_progress_callback</c>): the share done,
    /// 0..1, and the stage ("decode", "features", "network", "export", "import"). Return
    /// true to go on, false to cancel: the call then throws a <see cref="KMTalkException"/>
    /// with <see cref="Status.Cancelled"/>. It runs on the thread of the call it reports on,
    /// during that call only, about a hundred times per call; it must not use the session
    /// whose call it reports on. An exception it throws cancels the call and is rethrown
    /// from that call.
    /// </summary>
    /// <param name="fraction">The share of the call done, 0..1, never decreasing.</param>
    /// <param name="stage">The step the call is in.</param>
    public delegate bool ProgressCallback(float fraction, string stage);

    /// <summary>The library as a whole: versions, status descriptions, the log callback.
    /// Any thread may call these at any time.</summary>
    public static class Library
    {
        /// <summary>The version of include/kmtalk.h this binding was written against ("1.0.0").</summary>
        public const string BindingVersion = Native.KMT_VERSION_STRING;

        /// <summary>The library's version at run time, "MAJOR.MINOR.PATCH" (<c>kmt_version</c>).</summary>
        public static string Version { get { return Utf8.Decode(Native.kmt_version()); } }

        /// <summary>The library's version as major * 10000 + minor * 100 + patch (<c>kmt_version_number</c>).</summary>
        public static int VersionNumber { get { return Native.kmt_version_number(); } }

        /// <summary>A short description of a status code, for example "invalid argument" (<c>kmt_status_string</c>).</summary>
        public static string StatusString(Status status) { return Utf8.Decode(Native.kmt_status_string(status)); }

        private static readonly object logLock = new object();
        private static LogCallback logCallback;
        // Kept in a static field so that the garbage collector never frees the thunk the
        // library holds.
        private static readonly Native.kmt_log_callback logTrampoline = LogTrampoline;

        /// <summary>
        /// Installs a process-wide receiver of the library's log messages at
        /// <paramref name="minLevel"/> and above (<c>kmt_log_set</c>); null silences the
        /// library (the default). The callback may run on any thread that calls KMTalk
        /// (in Unity not only the main thread); exceptions it throws are swallowed, since
        /// they cannot cross the library's frames.
        /// </summary>
        public static void SetLogCallback(LogCallback callback, LogLevel minLevel = LogLevel.Info)
        {
            lock (logLock)
            {
                logCallback = callback;
                Native.kmt_log_set(callback == null ? null : logTrampoline, minLevel, IntPtr.Zero);
            }
        }

        [MonoPInvokeCallback(typeof(Native.kmt_log_callback))]
        private static void LogTrampoline(LogLevel level, IntPtr message, IntPtr userData)
        {
            LogCallback callback = logCallback;
            if (callback == null) return;
            try { callback(level, Utf8.Decode(message) ?? ""); }
            catch (Exception) { /* cannot propagate into native code */ }
        }
    }

    /// <summary>Marks the static methods the library calls back (IL2CPP and Xamarin compile
    /// them as reverse P/Invoke entry points; they recognise the attribute by its name).</summary>
    [AttributeUsage(AttributeTargets.Method)]
    internal sealed class MonoPInvokeCallbackAttribute : Attribute
    {
        public MonoPInvokeCallbackAttribute(Type type) { Type = type; }
        public Type Type { get; private set; }
    }

    /// <summary>The progress relay of one session or call: the user's callback and the
    /// exception it threw, reached from the static trampoline through a GCHandle.</summary>
    internal sealed class ProgressRelay
    {
        internal ProgressCallback Callback;
        internal Exception Pending;

        // One static thunk for every relay; the relay itself travels as user_data.
        private static readonly Native.kmt_progress_callback trampoline = Trampoline;
        internal static readonly IntPtr Pointer = Marshal.GetFunctionPointerForDelegate(trampoline);

        [MonoPInvokeCallback(typeof(Native.kmt_progress_callback))]
        private static int Trampoline(float fraction, IntPtr stage, IntPtr userData)
        {
            ProgressRelay relay;
            try { relay = (ProgressRelay)GCHandle.FromIntPtr(userData).Target; }
            catch (Exception) { return 0; }
            if (relay == null || relay.Callback == null) return 0;
            try { return relay.Callback(fraction, Utf8.Decode(stage) ?? "") ? 0 : 1; }
            catch (Exception error)
            {
                relay.Pending = error;
                return 1;
            }
        }

        /// <summary>Rethrows what the callback threw during the call, if anything, else
        /// checks <paramref name="status"/> as KMTalkException.Check does.</summary>
        internal void Check(Status status, string function)
        {
            Exception pending = Pending;
            Pending = null;
            if (pending != null && status == Status.Cancelled)
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(pending).Throw();
            KMTalkException.Check(status, function);
        }
    }

    /// <summary>Helpers shared by the classes: parameter structs, buffers, metadata.</summary>
    internal static class Interop
    {
        internal static UIntPtr Size(int value)
        {
            if (value < 0) throw new ArgumentOutOfRangeException("value");
            return (UIntPtr)(uint)value;
        }

        internal static UIntPtr Size(long value)
        {
            if (value < 0) throw new ArgumentOutOfRangeException("value");
            return (UIntPtr)(ulong)value;
        }

        /// <summary>A size_t that C# arrays can hold (an int); throws OutOfMemoryException otherwise.</summary>
        internal static int ToInt(UIntPtr value)
        {
            ulong v = value.ToUInt64();
            if (v > int.MaxValue) throw new OutOfMemoryException("KMTalk: " + v + " elements do not fit a .NET array");
            return (int)v;
        }

        internal static UIntPtr StructSize<T>() where T : struct
        {
            return (UIntPtr)(uint)Marshal.SizeOf(typeof(T));
        }

        /// <summary>The defaults from kmt_model_params_init (struct_size = Marshal.SizeOf).</summary>
        internal static Native.kmt_model_params ModelParams()
        {
            var p = new Native.kmt_model_params();
            KMTalkException.Check(Native.kmt_model_params_init(ref p, StructSize<Native.kmt_model_params>()), "kmt_model_params_init");
            return p;
        }

        /// <summary>The defaults from kmt_session_params_init.</summary>
        internal static Native.kmt_session_params SessionParams()
        {
            var p = new Native.kmt_session_params();
            KMTalkException.Check(Native.kmt_session_params_init(ref p, StructSize<Native.kmt_session_params>()), "kmt_session_params_init");
            return p;
        }

        /// <summary>The defaults from kmt_rig_import_params_init.</summary>
        internal static Native.kmt_rig_import_params RigImportParams()
        {
            var p = new Native.kmt_rig_import_params();
            KMTalkException.Check(Native.kmt_rig_import_params_init(ref p, StructSize<Native.kmt_rig_import_params>()), "kmt_rig_import_params_init");
            return p;
        }

        /// <summary>The defaults from kmt_export_params_init.</summary>
        internal static Native.kmt_export_params ExportParams()
        {
            var p = new Native.kmt_export_params();
            KMTalkException.Check(Native.kmt_export_params_init(ref p, StructSize<Native.kmt_export_params>()), "kmt_export_params_init");
            return p;
        }

        /// <summary>The defaults from kmt_audio_params_init.</summary>
        internal static Native.kmt_audio_params AudioParams()
        {
            var p = new Native.kmt_audio_params();
            KMTalkException.Check(Native.kmt_audio_params_init(ref p, StructSize<Native.kmt_audio_params>()), "kmt_audio_params_init");
            return p;
        }

        /// <summary>The reference to pass for an empty buffer: NULL.</summary>
        internal static ref T First<T>(Span<T> span)
        {
            return ref MemoryMarshal.GetReference(span);
        }

        internal static ref T First<T>(ReadOnlySpan<T> span)
        {
            return ref MemoryMarshal.GetReference(span);
        }

        internal delegate Status MetadataCall(byte[] key, byte[] buffer, UIntPtr size, out UIntPtr length);

        /// <summary>A metadata value by the (NULL, 0) size query then the copy; null when the
        /// key is missing (the C call's KMT_ERR_INVALID_ARGUMENT), other errors thrown.</summary>
        internal static string Metadata(MetadataCall call, string key, string function, bool throwIfMissing)
        {
            if (key == null) throw new ArgumentNullException("key");
            byte[] keyBytes = Utf8.Encode(key, "key");
            UIntPtr length;
            Status status = call(keyBytes, null, UIntPtr.Zero, out length);
            if (status == Status.InvalidArgument && !throwIfMissing) return null;
            if (status != Status.BufferTooSmall) KMTalkException.Check(status, function);
            if (status == Status.Ok) return "";
            byte[] buffer = new byte[ToInt(length) + 1];
            KMTalkException.Check(call(keyBytes, buffer, Size(buffer.Length), out length), function);
            return System.Text.Encoding.UTF8.GetString(buffer, 0, ToInt(length));
        }
    }
}
