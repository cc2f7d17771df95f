const cnn = await import('/work/main/examples/cnn.mjs');
const p = await cnn.run({ trainSize: 1000, epochs: 8 });
const a = await cnn.run({ trainSize: 1000, epochs: 8, augment: true });
console.log('cnn 1000/8 plain', p.trainAccuracy, p.testAccuracy, p.gap, 'aug', a.trainAccuracy, a.testAccuracy, a.gap);
const mc = await import('/work/main/examples/mc-augment.mjs');
console.log(JSON.stringify(await mc.run({ quick: true })));
