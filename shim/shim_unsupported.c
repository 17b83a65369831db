/*
 * shim_unsupported.c: NVML calls the shim exports only to say "not
 * supported", with their real signatures, so that a client which resolves
 * them (monitoring agents often do) gets NVML's own answer instead of a
 * missing symbol: UNINITIALIZED before nvmlInit, NOT_SUPPORTED after. The
 * simulator has no utilization, clocks, power or temperature (GPM, ECC and
 * Xid events are in shim_telemetry.c).
 * Anything not exported at all is, for a dlsym client, "function not found".
 */
#include "shim/shim.h"

static nvmlReturn_t unsupported(void)
{
    return shim_initialized() ? NVML_ERROR_NOT_SUPPORTED : NVML_ERROR_UNINITIALIZED;
}

SHIM_API nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t dev, void *utilization)
{
    (void)dev, (void)utilization;
    return unsupported();
}

SHIM_API nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t dev, int sensor, unsigned *temp)
{
    (void)dev, (void)sensor, (void)temp;
    return unsupported();
}

SHIM_API nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t dev, unsigned *milliwatts)
{
    (void)dev, (void)milliwatts;
    return unsupported();
}

SHIM_API nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t dev, int type, unsigned *mhz)
{
    (void)dev, (void)type, (void)mhz;
    return unsupported();
}

SHIM_API nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t dev, int count, void *values)
{
    (void)dev, (void)count, (void)values;
    return unsupported();
}

SHIM_API nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t dev, unsigned *count,
                                                              nvmlProcessInfo_t *infos)
{
    (void)dev, (void)count, (void)infos;
    return unsupported();
}
