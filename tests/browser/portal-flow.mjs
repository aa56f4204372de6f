// Drives the patient portal in real headless Chromium: an eligible and an ineligible patient
// identify themselves and see different services; the eligible one books. Every page passes
// axe, on a phone-sized screen.
//
// Usage: node portal-flow.mjs BASE_URL ADMIN_TOKEN
import { shoot, accessible, adminApi, arguments_, assert, check, fitsThePhone, launch, phone, report } from './harness.mjs';

const { base, token } = arguments_();
const browser = await launch();

const admin = adminApi(base, token);

async function identify(page, person) {
  await page.goto(`${base}/portal/demo`);
  await accessible(page, 'portal identification');
  await fitsThePhone(page, 'portal identification');
  for (const [field, value] of Object.entries(person)) {
    if (field === 'sex') await page.selectOption('#sex', value);
    else await page.fill(`#${field}`, value);
  }
  await Promise.all([page.waitForNavigation(), page.click('text=Show services')]);
  await accessible(page, 'portal services');
  return page.locator('main section.service h3').allTextContents();
}

try {
  const types = await admin('GET', '/admin/clinics/demo/booking-types?limit=100');
  const bloods = types.items.find((t) => t.short_name === 'BLOODS').id;
  const gp = types.items.find((t) => t.short_name === 'GP15').id;
  await admin('POST', '/admin/clinics/demo/online-services', { name: 'Blood tests', booking_type_ids: [bloods] });
  await admin('POST', '/admin/clinics/demo/online-services', {
    name: "Women's health review",
    booking_type_ids: [gp],
    rules: [{ kind: 'existing_patients_only' }, { kind: 'sex', allowed: ['female'] }, { kind: 'age_range', min_years: 40, max_years: null }],
  });
  await admin('POST', '/admin/clinics/demo/patients', {
    reference: 'MRN-PORTAL',
    patient: { first_name: 'Maria', last_name: 'Example', date_of_birth: '1968-02-03', mobile: '+447700900180', email: 'maria@example.com' },
    profile: { sex: 'female' },
  });

  await check('an eligible patient sees the restricted service and books it; an ineligible one does not see it', async () => {
    const context = await browser.newContext(phone);
    const page = await context.newPage();
    const eligible = await identify(page, { first_name: 'maria', last_name: 'EXAMPLE', date_of_birth: '1968-02-03', mobile: '+447700900180', email: 'maria@example.com' });
    assert(JSON.stringify(eligible) === JSON.stringify(['Blood tests', "Women's health review"]), `eligible sees ${eligible}`);
    assert((await page.textContent('form.visitor')).includes('maria EXAMPLE'), 'the steps do not say whom they book for');
    // The same steps as /book: type (with its next free time), clinician, site, a week by day.
    const women = page.locator('section.service', { hasText: "Women's health review" });
    await Promise.all([page.waitForNavigation(), women.locator('a.choice').first().click()]);
    assert((await page.textContent('h2')).includes('Who would you like to see?'), 'no clinician step');
    await accessible(page, 'portal clinicians');
    await shoot(page, 'portal-clinicians');
    await Promise.all([page.waitForNavigation(), page.click('text=Any available clinician')]);
    if ((await page.textContent('main')).includes('Where?')) {
      await Promise.all([page.waitForNavigation(), page.locator('a.choice').first().click()]);
    }
    assert((await page.textContent('main')).includes('Choose a time'), 'times page missing');
    await accessible(page, 'portal times');
    await fitsThePhone(page, 'portal times');
    await shoot(page, 'portal-times');
    const first = page.locator('details[open] ul.slots a.slot').first();
    const shown = (await first.textContent()).replace(/\s+/g, ' ').trim();
    const match = shown.match(/, (\d\d:\d\d) (Dr \S+ \S+)/);
    assert(match, `a portal time does not name its clinician: ${shown}`);
    await Promise.all([page.waitForNavigation(), first.click()]);
    const review = await page.textContent('dl.review');
    assert(review.includes(match[2]) && review.includes(match[1]), `the review does not repeat ${shown}: ${review}`);
    await accessible(page, 'portal review');
    await shoot(page, 'portal-review');
    const [booked] = await Promise.all([page.waitForNavigation(), page.click('button:has-text("Confirm")')]);
    assert(booked.status() === 201, `booking answered ${booked.status()}`);
    assert((await page.textContent('h1')).includes('Your appointment is booked'), 'confirmation missing');
    const confirmed = await page.textContent('dl.review');
    assert(confirmed.includes(match[2]) && confirmed.includes(match[1]), `the confirmation does not repeat ${shown}: ${confirmed}`);
    assert((await page.textContent('header.clinic')).includes('Riverside Family Practice'), 'no clinic name on the portal');
    await accessible(page, 'portal confirmation');
    await shoot(page, 'portal-confirmed');
    // "Not you?" ends the visit before the next person identifies.
    await Promise.all([page.waitForNavigation(), page.click('text=Not you? Start again')]);
    assert((await page.textContent('main')).includes('Show services'), 'not you did not end the visit');

    const ineligible = await identify(page, { first_name: 'Tom', last_name: 'Example', date_of_birth: '1968-02-03', mobile: '+447700900181', email: 'tom@example.com', sex: 'male' });
    assert(JSON.stringify(ineligible) === JSON.stringify(['Blood tests']), `ineligible sees ${ineligible}`);
    await context.close();
  });

  await check('the portal speaks French to a French browser', async () => {
    const context = await browser.newContext({ ...phone, locale: 'fr-FR' });
    const page = await context.newPage();
    await page.goto(`${base}/portal/demo`);
    assert((await page.getAttribute('html', 'lang')) === 'fr', 'html lang is not fr');
    await page.fill('#first_name', 'Ann');
    await page.fill('#last_name', 'Example');
    await page.fill('#date_of_birth', '1990-01-01');
    await page.fill('#mobile', '07700 900182');
    await Promise.all([page.waitForNavigation(), page.click('text=Voir les services')]);
    assert((await page.textContent('main h2:not(#advisory-title)')).includes('Que souhaitez-vous réserver'), 'services page not in French');
    assert((await page.textContent('form.visitor')).includes('Rendez-vous pour'), 'the visitor banner is not in French');
    await accessible(page, 'French portal services');
    await shoot(page, 'portal-services-fr');
    await context.close();
  });

  await check('bad details are shown next to their fields', async () => {
    const context = await browser.newContext(phone);
    const page = await context.newPage();
    await page.goto(`${base}/portal/demo`);
    await page.fill('#first_name', 'Ann');
    await page.fill('#last_name', 'Example');
    await page.fill('#date_of_birth', '1990-01-01');
    await page.fill('#mobile', '0770090');
    await page.fill('#email', 'ann@example.com');
    await Promise.all([page.waitForNavigation(), page.click('text=Show services')]);
    assert((await page.textContent('#mobile-error')).includes('must be a phone number'), 'mobile error missing');
    assert((await page.inputValue('#first_name')) === 'Ann', 'typed values were lost');
    await accessible(page, 'portal with errors');
    await context.close();
  });
  await check('the portal reads well on a desktop screen, every step to the review', async () => {
    const context = await browser.newContext({ ...phone, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${base}/portal/demo`);
    await page.fill('#first_name', 'Ann');
    await page.fill('#last_name', 'Example');
    await page.fill('#date_of_birth', '1990-01-01');
    await page.fill('#mobile', '07700 900183');
    await Promise.all([page.waitForNavigation(), page.click('text=Show services')]);
    await accessible(page, 'desktop portal services');
    await shoot(page, 'portal-services-desktop');
    await Promise.all([page.waitForNavigation(), page.locator('a.choice').first().click()]);
    await Promise.all([page.waitForNavigation(), page.locator('a.choice').first().click()]);
    if ((await page.textContent('main')).includes('Where?')) {
      await Promise.all([page.waitForNavigation(), page.locator('a.choice').first().click()]);
    }
    await accessible(page, 'desktop portal times');
    await shoot(page, 'portal-times-desktop');
    await Promise.all([page.waitForNavigation(), page.locator('details[open] a.slot').first().click()]);
    assert((await page.textContent('h1')).includes('Your appointment'), 'no review on the desktop');
    await accessible(page, 'desktop portal review');
    await shoot(page, 'portal-review-desktop');
    await context.close();
  });
} finally {
  await browser.close();
}

report();
