// The waitlist in headless Chromium: a patient finds no time that suits, joins the waitlist from
// the times page on a phone, staff cancel an appointment, and the patient takes the offer from
// the SMS in the outbox. Every page is checked with axe.
//
// Usage: node waitlist-flow.mjs BASE_URL ADMIN_TOKEN
import { accessible, adminApi, arguments_, assert, awaitMessage, check, fitsThePhone, launch, phone, report, shoot } from './harness.mjs';

const { base, token } = arguments_();
const api = adminApi(base, token);
const browser = await launch();

// The next Saturday at least three days away, as YYYY-MM-DD in London.
function nextSaturday() {
  const day = new Date(Date.now() + 3 * 86400000);
  while (day.getUTCDay() !== 6) day.setUTCDate(day.getUTCDate() + 1);
  return day.toISOString().slice(0, 10);
}

try {
  await check('a patient joins the waitlist on a phone and takes the offer a cancellation frees', async () => {
    const providers = (await api('GET', '/admin/clinics/demo/providers?limit=100')).items;
    const locations = (await api('GET', '/admin/clinics/demo/locations?limit=100')).items;
    const amara = providers.find((p) => p.name === 'Dr Amara Okafor').id;
    const riverside = locations.find((l) => l.full_name === 'Riverside Surgery').id;
    const type = await api('POST', '/admin/clinics/demo/booking-types', {
      short_name: 'PHYSIOB', long_name: 'Physiotherapy review', long_name_fr: 'Bilan de kinésithérapie', duration_minutes: 20, enabled_online: true,
    });
    await api('POST', '/admin/clinics/demo/diary-templates', {
      provider_id: amara, location_id: riverside, weekdays: ['saturday'], start_time: '09:00', end_time: '09:20',
      slot_minutes: 20, booking_type_ids: [type.id], valid_from: '2026-01-01',
    });
    // The Saturday the patient wants is booked (London keeps GMT in winter: 09:00 is 09:00Z).
    const saturday = nextSaturday();
    const first = await api('POST', '/admin/clinics/demo/appointments', {
      booking_type_id: type.id, provider_id: amara, location_id: riverside, starts_at: `${saturday}T09:00:00Z`, notify: false,
      patient: { first_name: 'Bea', last_name: 'Example', date_of_birth: '1970-01-01', mobile: '+447700900350', email: '' },
    });

    const context = await browser.newContext(phone);
    const page = await context.newPage();
    await page.goto(`${base}/book/demo?type=${type.id}&provider=any&location=any`);
    await Promise.all([page.waitForNavigation(), page.click('text=Join the waitlist')]);
    await accessible(page, 'waitlist form');
    await fitsThePhone(page, 'waitlist form');
    await page.fill('#from', saturday);
    await page.fill('#to', saturday);
    await page.check('input[name=saturday]');
    await page.check('input[name=part][value=morning]');
    await page.fill('#first_name', 'Wai');
    await page.fill('#last_name', 'Example');
    await page.fill('#date_of_birth', '1990-03-04');
    await page.fill('#mobile', '07700 900351');
    await shoot(page, 'waitlist-join');
    const [joined] = await Promise.all([page.waitForNavigation(), page.click('button.primary')]);
    assert(joined.status() === 201, `joining answered ${joined.status()}`);
    assert((await page.textContent('h1')).includes('You are on the waitlist'), 'no joined page');
    await accessible(page, 'joined');

    // Staff cancel the Saturday appointment the patient is waiting for.
    await api('PATCH', `/admin/clinics/demo/appointments/${first.id}`, { status: 'cancelled' });
    const sms = await awaitMessage(base, (m) => m.channel === 'sms' && m.to === '+447700900351' && m.body.includes('/waitlist/'), 'waitlist offer SMS');
    const url = sms.body.split(/\s+/).find((word) => word.includes('/waitlist/'));
    await page.goto(url);
    assert((await page.textContent('dl.review')).includes('Dr Amara Okafor'), 'the offer does not say who');
    await accessible(page, 'offer');
    await fitsThePhone(page, 'offer');
    await shoot(page, 'waitlist-offer');
    await Promise.all([page.waitForNavigation(), page.click('text=Book this time')]);
    assert((await page.textContent('main')).includes('Your appointment is booked'), 'the offer was not booked');
    await accessible(page, 'offer taken');
    await shoot(page, 'waitlist-booked');
    const list = await api('GET', '/admin/clinics/demo/waitlist');
    assert(list.items.some((item) => item.patient_mobile === '+447700900351' && item.status.state === 'booked'), 'the entry is not booked');
    await context.close();
  });
} finally {
  await browser.close();
}

report();
