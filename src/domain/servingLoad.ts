// Whether the serving thread (this process's event loop) has been busy of late: the compare
// queue then gives way to the calls of integrations already verified (see CompareQueue).
//
// Why not leave it to the OS: the bcrypt threads run at nice 19, yet on 2 cores a warm
// integration still kept a median 0.69 of its rate beside 1,000 newcomers (bench (f)), its
// serving thread 0.97–0.99 busy throughout while the compares kept both bcrypt slots at work.
// The scheduler cannot tell that those cores are the serving thread's; its event loop
// utilisation can.

/** Busier than this, over the last sample, is busy. */
const BUSY_UTILISATION = 0.8;
/** How often the utilisation is sampled, and over how long. */
const SAMPLE_MS = 200;

export interface ServingLoad {
  busy(): boolean;
}

export class EventLoopLoad implements ServingLoad {
  private last = performance.eventLoopUtilization();
  private wasBusy = false;
  private readonly timer: NodeJS.Timeout;

  constructor(sampleMs = SAMPLE_MS) {
    this.timer = setInterval(() => this.sample(), sampleMs);
    this.timer.unref();
  }

  busy(): boolean {
    return this.wasBusy;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    const now = performance.eventLoopUtilization();
    this.wasBusy = performance.eventLoopUtilization(now, this.last).utilization > BUSY_UTILISATION;
    this.last = now;
  }
}
