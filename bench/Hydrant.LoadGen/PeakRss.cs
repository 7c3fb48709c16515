using System.Globalization;

namespace Hydrant.LoadGen;

/// <summary>
/// The peak resident memory of a process over its life so far: the kernel's own high-water mark
/// (VmHWM in /proc/PID/status), which no sampling interval can miss.
/// </summary>
public static class PeakRss
{
    public static long Read(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }
        return 0;
    }
}
