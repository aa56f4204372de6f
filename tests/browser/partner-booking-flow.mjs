// Drives the partner booking staff page in real headless Chromium: with an admin token a user
// picks a partner, a qualification and a service, starts the reservation on a free slot, adds
// the patient and books; the appointment lands in the diary flagged for the partner and is
// counted in the statistics. Every step passes axe.
//
// Usage: node partner-booking-flow.mjs BASE_URL ADMIN_TOKEN
import { accessible, adminApi, arguments_, assert, check, launch, report } from './harness.mjs';

const { base, token } = arguments_();
const browser = await launch();

const admin = adminApi(base, token);

try {
  await check('staff book for a partner on the staff page, by qualification, and the booking is flagged', async () => {
    const types = await admin('GET', '/admin/clinics/demo/booking-types?limit=100');
    const gp = types.items.find((t) => t.long_name === 'GP consultation').id;
    await admin('POST', '/admin/clinics/demo/partners', { id: 'acme', name: 'Acme Insurance', activated_booking_type_ids: [gp] });

    const context = await browser.newContext({ viewport: { width: 1024, height: 900 }, locale: 'en-GB', bypassCSP: true });
    const page = await context.newPage();
    const response = await page.goto(`${base}/staff/partner-booking`);
    assert(response.status() === 200, `the page answered ${response.status()}`);
    await accessible(page, 'staff page');
    await page.fill('#token', token);
    await page.click('text=Load partners');
    await page.waitForSelector('#choose:not([hidden])');
    await page.waitForFunction(() => document.querySelector('#service').options.length > 0);
    assert((await page.textContent('#partner')).includes('Acme Insurance'), 'the partner is not offered');
    await page.selectOption('#qualification', 'Cardiology');
    await page.waitForFunction(() => [...document.querySelector('#provider').options].every((o) => o.value === 'any' || o.textContent.includes('Lindqvist')));
    await page.click('#show-slots');
    await page.waitForSelector('#slots button');
    await accessible(page, 'slots');
    const first = await page.textContent('#slots button');
    assert(first.includes('Dr Tom Lindqvist'), `a slot of another doctor: ${first}`);
    await page.click('#slots button');
    await page.waitForSelector('#patient:not([hidden])');
    assert((await page.textContent('#held')).startsWith('Held:'), 'the hold is not shown');
    await page.fill('#search', 'Nobody Such');
    await page.click('#find');
    await page.waitForFunction(() => document.querySelector('#status').textContent.includes('No patient found'));
    await page.fill('#reference', 'MRN-BROWSER');
    await page.fill('#first_name', 'Noor');
    await page.fill('#last_name', 'Example');
    await page.fill('#date_of_birth', '1993-03-03');
    await page.fill('#mobile', '+447700900160');
    await page.fill('#email', 'noor@example.com');
    await accessible(page, 'patient step');
    await page.click('#add');
    await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Booked for'));
    const status = await page.textContent('#status');
    assert(status.includes('Noor Example') && status.includes('acme'), `status: ${status}`);
    await context.close();

    const day = status.match(/at (\d{4}-\d\d-\d\d)T/)[1];
    const diary = await admin('GET', `/admin/clinics/demo/appointments?date=${day}`);
    const booked = diary.items.find((a) => a.patient_name === 'Noor Example');
    assert(booked && booked.channel === 'partner' && booked.partner_id === 'acme', `diary: ${JSON.stringify(booked)}`);
    const stats = await admin('GET', '/admin/clinics/demo/statistics?group_by=channel,partner_id');
    const row = stats.rows.find((r) => r.channel === 'partner' && r.partner_id === 'acme');
    assert(row && row.booked === 1, `statistics: ${JSON.stringify(stats.rows)}`);
  });

  await check('the staff page works under its own content security policy', async () => {
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    const violations = [];
    page.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) violations.push(message.text()); });
    await page.goto(`${base}/staff/partner-booking`);
    await page.fill('#token', token);
    await page.click('text=Load partners');
    await page.waitForSelector('#choose:not([hidden])');
    assert(violations.length === 0, `CSP violations: ${violations.join('; ')}`);
    await context.close();
  });
} finally {
  await browser.close();
}

report();
