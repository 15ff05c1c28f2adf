using System.Runtime.Versioning;

// The machine seam is libc on Linux by design (statx, flock, setpriv); nothing here runs elsewhere.
[assembly: SupportedOSPlatform("linux")]
