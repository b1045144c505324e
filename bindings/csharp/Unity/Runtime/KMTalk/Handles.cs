// SPDX-License-Identifier: MIT
// SafeHandle subclasses owning the C API's objects: each releases its object with the
// matching kmt_*_free exactly once, when disposed or finalized. The P/Invoke marshaller
// adds a reference to a SafeHandle for the duration of every call it is passed to, so a
// handle disposed on another thread is freed only after the calls using it returned, and
// a handle already disposed is refused with ObjectDisposedException before the call.
using System;
using System.Runtime.InteropServices;

namespace KMTalk
{
    /// <summary>Base of the KMTalk handles: a native pointer, invalid when NULL.</summary>
    public abstract class KMTalkHandle : SafeHandle
    {
        /// <summary>An empty handle that will own what the library stores into it.</summary>
        protected KMTalkHandle() : base(IntPtr.Zero, true) { }

        /// <summary>An empty handle; <paramref name="ownsHandle"/> false never frees.</summary>
        protected KMTalkHandle(bool ownsHandle) : base(IntPtr.Zero, ownsHandle) { }

        /// <summary>True for a NULL pointer.</summary>
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
    }

    /// <summary>Owns a <c>kmt_model *</c> (released with <c>kmt_model_free</c>).</summary>
    public sealed class ModelHandle : KMTalkHandle
    {
        /// <summary>An empty handle (the marshaller fills it from an out-parameter).</summary>
        public ModelHandle() { }

        /// <summary>Calls <c>kmt_model_free</c>.</summary>
        protected override bool ReleaseHandle()
        {
            Native.kmt_model_free(handle);
            return true;
        }
    }

    /// <summary>Owns a <c>kmt_session *</c> (released with <c>kmt_session_free</c>), and
    /// the GC handle of its progress relay, freed after the session.</summary>
    public sealed class SessionHandle : KMTalkHandle
    {
        internal GCHandle ProgressRelay;

        /// <summary>An empty handle (the marshaller fills it from an out-parameter).</summary>
        public SessionHandle() { }

        /// <summary>Calls <c>kmt_session_free</c>, then frees the progress relay.</summary>
        protected override bool ReleaseHandle()
        {
            Native.kmt_session_free(handle);
            if (ProgressRelay.IsAllocated) ProgressRelay.Free();
            return true;
        }
    }

    /// <summary>Owns a <c>kmt_animation *</c> (released with <c>kmt_animation_free</c>).</summary>
    public sealed class AnimationHandle : KMTalkHandle
    {
        /// <summary>An empty handle (the marshaller fills it from an out-parameter).</summary>
        public AnimationHandle() { }

        /// <summary>Calls <c>kmt_animation_free</c>.</summary>
        protected override bool ReleaseHandle()
        {
            Native.kmt_animation_free(handle);
            return true;
        }
    }

    /// <summary>Owns a <c>kmt_rig *</c> (released with <c>kmt_rig_free</c>).</summary>
    public sealed class RigHandle : KMTalkHandle
    {
        /// <summary>An empty handle (the marshaller fills it from an out-parameter).</summary>
        public RigHandle() { }

        private RigHandle(bool ownsHandle) : base(ownsHandle) { }

        /// <summary>A NULL rig argument ("no rig"), owning nothing.</summary>
        internal static RigHandle Null() { return new RigHandle(false); }

        /// <summary>Calls <c>kmt_rig_free</c>.</summary>
        protected override bool ReleaseHandle()
        {
            Native.kmt_rig_free(handle);
            return true;
        }
    }

    /// <summary>Owns a <c>kmt_audio *</c> (released with <c>kmt_audio_free</c>).</summary>
    public sealed class AudioHandle : KMTalkHandle
    {
        /// <summary>An empty handle (the marshaller fills it from an out-parameter).</summary>
        public AudioHandle() { }

        /// <summary>Calls <c>kmt_audio_free</c>.</summary>
        protected override bool ReleaseHandle()
        {
            Native.kmt_audio_free(handle);
            return true;
        }
    }
}
